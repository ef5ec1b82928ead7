/**
 * Converter from scikit-learn trees and forests exported as plain JSON arrays (see docs/trees.md for the
 * 20-line Python snippet that writes them):
 *
 * ```json
 * {"format": "sklearn-trees", "estimator": "RandomForestClassifier", "n_features": 4, "classes": [0, 1, 2],
 *  "trees": [{"children_left": [...], "children_right": [...], "feature": [...], "threshold": [...],
 *             "value": [[[50, 0, 0]], ...]}]}
 * ```
 *
 * `value` is `tree_.value` (n_nodes × n_outputs × n_classes, or n_nodes × n_classes). A node sends
 * `x <= threshold` to the left. A classifier's leaf is normalised to probabilities (as `predict_proba` does);
 * forests average their trees.
 */
import { DataError, UnsupportedLayerError } from '../../errors.js';
import { createTreeEnsemble, type TreeEnsemble, type TreeParameters } from '../tree_ir.js';

/** Estimators {@link fromSklearnJson} converts. */
export const SUPPORTED_SKLEARN_ESTIMATORS = [
  'DecisionTreeClassifier', 'DecisionTreeRegressor', 'RandomForestClassifier', 'RandomForestRegressor',
  'ExtraTreesClassifier', 'ExtraTreesRegressor',
] as const;

/** True if `x` carries `format: 'sklearn-trees'`. */
export function isSklearnJson(x: unknown): boolean {
  return typeof x === 'object' && x !== null && (x as { format?: unknown }).format === 'sklearn-trees';
}

function numArray(x: unknown, where: string): number[] {
  if (!Array.isArray(x) || !x.every((v) => typeof v === 'number')) throw new DataError(`scikit-learn JSON: '${where}' must be a number array.`);
  return x as number[];
}

function leafRow(v: unknown, where: string): number[] {
  let row: unknown = v;
  if (Array.isArray(v) && Array.isArray(v[0])) {
    if (v.length !== 1) throw new UnsupportedLayerError(`scikit-learn JSON: ${where} has ${v.length} outputs; multi-output trees are not supported.`);
    row = v[0];
  }
  return numArray(row, where);
}

/**
 * Convert a scikit-learn tree/forest JSON document.
 * @throws UnsupportedLayerError for another estimator or multi-output trees; DataError for malformed arrays.
 * @example
 * const ensemble = fromSklearnJson(JSON.parse(fs.readFileSync('forest.json', 'utf8')));
 */
export function fromSklearnJson(json: unknown): TreeEnsemble {
  if (!isSklearnJson(json)) throw new DataError(`scikit-learn JSON: expected an object with format 'sklearn-trees', received ${JSON.stringify(json)?.slice(0, 60)}.`);
  const doc = json as Record<string, unknown>;
  const est = String(doc['estimator']);
  if (!(SUPPORTED_SKLEARN_ESTIMATORS as readonly string[]).includes(est)) {
    throw new UnsupportedLayerError(`scikit-learn estimator '${est}' cannot be converted; supported: ${SUPPORTED_SKLEARN_ESTIMATORS.join(', ')}.`);
  }
  const classifier = est.endsWith('Classifier');
  const nFeatures = doc['n_features'];
  if (!Number.isInteger(nFeatures)) throw new DataError(`scikit-learn JSON: 'n_features' must be an integer, received ${JSON.stringify(nFeatures)}.`);
  const classes = classifier ? numArray(doc['classes'], 'classes') : [0];
  const rawTrees = doc['trees'];
  if (!Array.isArray(rawTrees) || rawTrees.length === 0) throw new DataError(`scikit-learn JSON: 'trees' must be a non-empty array.`);
  if (est.startsWith('DecisionTree') && rawTrees.length !== 1) throw new DataError(`scikit-learn JSON: a ${est} has exactly one tree, received ${rawTrees.length}.`);
  const width = classifier ? classes.length : 1;
  const trees: TreeParameters[] = rawTrees.map((t: unknown, ti) => {
    if (typeof t !== 'object' || t === null) throw new DataError(`scikit-learn JSON: trees[${ti}] must be an object.`);
    const r = t as Record<string, unknown>;
    const lefts = numArray(r['children_left'], `trees[${ti}].children_left`);
    const rights = numArray(r['children_right'], `trees[${ti}].children_right`);
    const feature = numArray(r['feature'], `trees[${ti}].feature`);
    const threshold = numArray(r['threshold'], `trees[${ti}].threshold`);
    const value = r['value'];
    if (!Array.isArray(value) || value.length !== lefts.length) throw new DataError(`scikit-learn JSON: trees[${ti}].value must hold one entry per node (${lefts.length}).`);
    const values = value.map((v: unknown, i) => {
      if (lefts[i] !== -1) return new Array<number>(width).fill(0);
      const row = leafRow(v, `trees[${ti}].value[${i}]`);
      if (row.length !== width) throw new DataError(`scikit-learn JSON: trees[${ti}].value[${i}] has ${row.length} entries, expected ${width}.`);
      if (!classifier) return row;
      const s = row.reduce((a, b) => a + b, 0);
      return row.map((x) => x / (s === 0 ? 1 : s));
    });
    return {
      lefts, rights, values, features: feature.map((f, i) => (lefts[i] === -1 ? -1 : f)),
      thresholds: threshold.map((x, i) => (lefts[i] === -1 ? 0 : x)),
    };
  });
  return createTreeEnsemble({
    kind: classifier ? 'classifier' : 'regressor', nFeatures: nFeatures as number, nClasses: width, nOutputs: width,
    aggregation: est.startsWith('DecisionTree') ? 'sum' : 'mean', splitRule: '<=', trees, classLabels: classes,
    source: `scikit-learn ${est}`,
  });
}
