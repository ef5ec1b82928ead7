/** One entry point for every tree converter: {@link toTreeEnsemble} detects the model type. */
import { UnsupportedLayerError } from '../../errors.js';
import { isTreeEnsemble, type TreeEnsemble } from '../tree_ir.js';
import { fromMlTree, mlTreeKind, type MlTreeConvertOptions } from './ml_cart.js';
import { fromSklearnJson, isSklearnJson } from './sklearn.js';
import { fromXgboostJson, isXgboostJson } from './xgboost.js';

export { fromMlTree, type MlTreeConvertOptions } from './ml_cart.js';
export { fromSklearnJson, SUPPORTED_SKLEARN_ESTIMATORS } from './sklearn.js';
export { fromXgboostJson, SUPPORTED_XGBOOST_OBJECTIVES } from './xgboost.js';

/** The model types {@link toTreeEnsemble} accepts, for error messages and docs. */
export const SUPPORTED_TREE_MODELS = [
  'TreeEnsemble (createTreeEnsemble)',
  'ml-cart DecisionTreeClassifier / DecisionTreeRegression (live or toJSON())',
  'ml-random-forest RandomForestClassifier / RandomForestRegression (live or toJSON())',
  'XGBoost JSON model (save_model("model.json"))',
  "scikit-learn trees/forests as JSON arrays ({format: 'sklearn-trees', ...})",
] as const;

/**
 * Convert any supported tree model (see {@link SUPPORTED_TREE_MODELS}) to the neutral IR.
 * @throws UnsupportedLayerError naming the received type and listing the supported ones.
 * @example
 * const ensemble = toTreeEnsemble(JSON.parse(fs.readFileSync('xgb.json', 'utf8')));
 */
export function toTreeEnsemble(model: unknown, options: MlTreeConvertOptions = {}): TreeEnsemble {
  if (isTreeEnsemble(model)) return model;
  if (mlTreeKind(model) !== undefined) return fromMlTree(model, options);
  if (isXgboostJson(model)) return fromXgboostJson(model);
  if (isSklearnJson(model)) return fromSklearnJson(model);
  const what = typeof model === 'object' && model !== null
    ? `an object (constructor ${(model as { constructor?: { name?: string } }).constructor?.name ?? 'none'}, keys ${Object.keys(model).slice(0, 6).join(', ')})`
    : String(model);
  throw new UnsupportedLayerError(`cannot convert ${what} to trees; supported: ${SUPPORTED_TREE_MODELS.join('; ')}.`);
}
