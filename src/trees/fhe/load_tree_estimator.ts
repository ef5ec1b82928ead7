/** Load any saved FHE tree estimator (the class is read from the file). */
import { ModelFileError } from '../../errors.js';
import { DecisionTreeClassifier, DecisionTreeRegressor } from './decision_tree.js';
import { XGBClassifier, XGBRegressor } from './gradient_boosting.js';
import { readTreeModel } from './persistence.js';
import { RandomForestClassifier, RandomForestRegressor } from './random_forest.js';
import { restoreTreeEstimator, type FheTreeEstimator } from './tree_estimator.js';

/** Estimator classes by name. */
const CLASSES: Record<string, new (options: Record<string, number>) => FheTreeEstimator> = {
  DecisionTreeClassifier, DecisionTreeRegressor, RandomForestClassifier, RandomForestRegressor, XGBClassifier, XGBRegressor,
};

/**
 * Load the estimator saved in `dir` by `save(dir)`, whatever its class.
 * @example const m = loadTreeEstimator('out/forest'); m.compile(); m.predict(X, {fhe: 'simulate'});
 * @throws ModelFileError for a missing/damaged file or an unknown estimator class.
 */
export function loadTreeEstimator(dir: string): FheTreeEstimator {
  const { doc, state } = readTreeModel(dir, null);
  const Ctor = CLASSES[doc.estimator];
  if (Ctor === undefined) throw new ModelFileError(`${dir}: unknown tree estimator '${doc.estimator}'; known: ${Object.keys(CLASSES).join(', ')}.`);
  return restoreTreeEstimator(new Ctor(state.params), state);
}
