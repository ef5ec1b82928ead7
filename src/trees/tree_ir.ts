/**
 * Neutral tree IR, after Hummingbird's `TreeParameters(lefts, rights, features, thresholds, values)`
 * (`operator_converters/_tree_commons.py`). Every converter (ml-cart, ml-random-forest, XGBoost JSON,
 * scikit-learn arrays) produces a {@link TreeEnsemble}; every evaluator (GEMM, tree traversal, perfect
 * tree traversal, the FHE integer program) consumes one.
 */
import { ConfigError, DataError } from '../errors.js';

/** How a node routes a sample: `x[feature] <= threshold` (scikit-learn) or `x[feature] < threshold` (XGBoost, ml-cart) goes left. */
export type SplitRule = '<=' | '<';
/** How per-tree outputs combine: summed (boosting) or averaged (forests). */
export type Aggregation = 'sum' | 'mean';
/** Function applied to the aggregated margin: none, sigmoid (binary logistic, one output) or softmax. */
export type PostTransform = 'none' | 'sigmoid' | 'softmax';
/**
 * How `predict` resolves ties between classes with equal score.
 * - `lowestClass`: first maximum (numpy/`argmax`, ml-matrix `maxRowIndex`).
 * - `firstTreeToReach`: ml-array-mode's rule for ml-random-forest votes: among the tied classes, the one whose
 *   vote count reached the maximum first in tree order (needs one-hot leaf votes).
 */
export type TieBreak = 'lowestClass' | 'firstTreeToReach';

/**
 * One tree as parallel node arrays. Node 0 is the root. A leaf has `lefts[i] === -1 && rights[i] === -1`;
 * its `features`/`thresholds` entries are ignored (conventionally -1 / 0). `values[i]` is the leaf's output
 * vector (length `nOutputs`); internal nodes' values are ignored.
 */
export interface TreeParameters {
  /** Left child of each node, -1 for a leaf. */
  readonly lefts: readonly number[];
  /** Right child of each node, -1 for a leaf. */
  readonly rights: readonly number[];
  /** Feature index tested at each node, -1 for a leaf. */
  readonly features: readonly number[];
  /** Threshold of each node (float64, as stored by the source library). */
  readonly thresholds: readonly number[];
  /** Output vector of each node (only leaves matter), each of length `nOutputs`. */
  readonly values: readonly (readonly number[])[];
}

/** Ensemble metadata plus trees, as accepted by {@link createTreeEnsemble}. */
export interface TreeEnsembleSpec {
  /** Classifier or regressor. */
  kind: 'classifier' | 'regressor';
  /** Number of input features. */
  nFeatures: number;
  /** Number of classes (1 for a regressor). */
  nClasses: number;
  /** Width of every leaf vector: nClasses, or 1 for binary logistic / regression. */
  nOutputs: number;
  /** The trees. */
  trees: TreeParameters[];
  /** Combination of the per-tree outputs. */
  aggregation: Aggregation;
  /** Added to the aggregated output before the post transform (margin space); length nOutputs. @default zeros */
  baseScore?: number[];
  /** Transform from margin to probabilities. @default 'none' */
  postTransform?: PostTransform;
  /** Split comparison. */
  splitRule: SplitRule;
  /** Precision the source library compares in (float64 for ml-cart, float32 for XGBoost and scikit-learn). @default 'float32' */
  compareDtype?: 'float32' | 'float64';
  /** Tie-breaking rule of `predict`. @default 'lowestClass' */
  tieBreak?: TieBreak;
  /** Class label of each class index (scikit-learn `classes_`). @default [0, 1, ..., nClasses-1] */
  classLabels?: number[];
  /** Where the model came from, for messages and reports. @default 'unknown' */
  source?: string;
}

/** A validated tree ensemble (see {@link createTreeEnsemble}). */
export interface TreeEnsemble extends Readonly<Required<TreeEnsembleSpec>> {
  /** Tag set by {@link createTreeEnsemble}; marks a validated ensemble. */
  readonly type: 'treeEnsemble';
  /** Depth of the deepest tree (a single leaf has depth 0). */
  readonly maxDepth: number;
}

function isIntArray(a: unknown): a is number[] {
  return Array.isArray(a) && a.every((v) => Number.isInteger(v));
}

/** Depth of a validated tree (a single leaf has depth 0). */
export function treeDepth(tree: TreeParameters): number {
  let max = 0;
  const stack: [number, number][] = [[0, 0]];
  while (stack.length > 0) {
    const [node, d] = stack.pop() as [number, number];
    if (d > max) max = d;
    const l = tree.lefts[node] ?? -1;
    if (l >= 0) stack.push([l, d + 1], [tree.rights[node] ?? -1, d + 1]);
  }
  return max;
}

/** True if node `i` of `tree` is a leaf. */
export function isLeaf(tree: TreeParameters, i: number): boolean {
  return (tree.lefts[i] ?? -1) < 0;
}

function validateTree(t: TreeParameters, ti: number, nFeatures: number, nOutputs: number): void {
  const where = `tree ${ti}`;
  if (typeof t !== 'object' || t === null) throw new DataError(`${where}: expected an object with node arrays, received ${String(t)}.`);
  const n = Array.isArray(t.lefts) ? t.lefts.length : -1;
  if (n < 1) throw new DataError(`${where}: 'lefts' must be a non-empty array of node indices, received ${JSON.stringify(t.lefts)?.slice(0, 60)}.`);
  for (const key of ['lefts', 'rights', 'features'] as const) {
    if (!isIntArray(t[key]) || t[key].length !== n) {
      throw new DataError(`${where}: '${key}' must be an integer array of length ${n} (one entry per node); fix the converter input.`);
    }
  }
  if (!Array.isArray(t.thresholds) || t.thresholds.length !== n || !t.thresholds.every((v) => typeof v === 'number' && !Number.isNaN(v))) {
    throw new DataError(`${where}: 'thresholds' must be a number array of length ${n} without NaN.`);
  }
  if (!Array.isArray(t.values) || t.values.length !== n) throw new DataError(`${where}: 'values' must hold one vector per node (${n}).`);
  const seen = new Uint8Array(n);
  seen[0] = 1;
  const stack = [0];
  let reached = 1;
  while (stack.length > 0) {
    const i = stack.pop() as number;
    const l = t.lefts[i] as number;
    const r = t.rights[i] as number;
    if ((l < 0) !== (r < 0)) throw new DataError(`${where}, node ${i}: has one child only (left ${l}, right ${r}); both must be -1 (leaf) or valid nodes.`);
    if (l < 0) {
      const v = t.values[i];
      if (!Array.isArray(v) || v.length !== nOutputs || !v.every((x) => Number.isFinite(x))) {
        throw new DataError(`${where}, leaf ${i}: value must be ${nOutputs} finite numbers, received ${JSON.stringify(v)}.`);
      }
      continue;
    }
    const f = t.features[i] as number;
    if (f < 0 || f >= nFeatures) throw new DataError(`${where}, node ${i}: feature ${f} is outside [0, ${nFeatures - 1}].`);
    for (const c of [l, r]) {
      if (c >= n || c <= 0) throw new DataError(`${where}, node ${i}: child ${c} is outside [1, ${n - 1}].`);
      if (seen[c]) throw new DataError(`${where}, node ${i}: child ${c} is reached twice (a cycle or a shared node); trees must be trees.`);
      seen[c] = 1;
      reached++;
      stack.push(c);
    }
  }
  if (reached !== n) throw new DataError(`${where}: ${n - reached} node(s) are not reachable from the root; remove them.`);
}

/**
 * Validate a spec and return an immutable {@link TreeEnsemble}.
 * @throws ConfigError on bad metadata (kind, counts, rules), DataError on malformed trees.
 * @example
 * const e = createTreeEnsemble({kind: 'regressor', nFeatures: 1, nClasses: 1, nOutputs: 1, aggregation: 'sum',
 *   splitRule: '<=', trees: [{lefts: [1, -1, -1], rights: [2, -1, -1], features: [0, -1, -1],
 *   thresholds: [0.5, 0, 0], values: [[0], [1], [2]]}]});
 */
export function createTreeEnsemble(spec: TreeEnsembleSpec): TreeEnsemble {
  if (typeof spec !== 'object' || spec === null) throw new ConfigError(`createTreeEnsemble: expected a spec object, received ${String(spec)}.`);
  const { kind, nFeatures, nClasses, nOutputs, aggregation, splitRule } = spec;
  if (kind !== 'classifier' && kind !== 'regressor') throw new ConfigError(`kind must be 'classifier' or 'regressor', received ${JSON.stringify(kind)}.`);
  if (!Number.isInteger(nFeatures) || nFeatures < 1) throw new ConfigError(`nFeatures must be a positive integer, received ${nFeatures}.`);
  if (!Number.isInteger(nClasses) || nClasses < 1) throw new ConfigError(`nClasses must be a positive integer, received ${nClasses}.`);
  if (kind === 'regressor' && nClasses !== 1) throw new ConfigError(`a regressor has nClasses 1, received ${nClasses}.`);
  if (!Number.isInteger(nOutputs) || nOutputs < 1) throw new ConfigError(`nOutputs must be a positive integer, received ${nOutputs}.`);
  if (aggregation !== 'sum' && aggregation !== 'mean') throw new ConfigError(`aggregation must be 'sum' or 'mean', received ${JSON.stringify(aggregation)}.`);
  if (splitRule !== '<=' && splitRule !== '<') throw new ConfigError(`splitRule must be '<=' or '<', received ${JSON.stringify(splitRule)}.`);
  const postTransform = spec.postTransform ?? 'none';
  if (!['none', 'sigmoid', 'softmax'].includes(postTransform)) {
    throw new ConfigError(`postTransform must be 'none', 'sigmoid' or 'softmax', received ${JSON.stringify(postTransform)}.`);
  }
  if (postTransform === 'sigmoid' && !(nOutputs === 1 && nClasses === 2)) {
    throw new ConfigError(`postTransform 'sigmoid' needs nOutputs 1 and nClasses 2 (binary logistic), received nOutputs ${nOutputs}, nClasses ${nClasses}.`);
  }
  if (kind === 'classifier' && postTransform !== 'sigmoid' && nOutputs !== nClasses) {
    throw new ConfigError(`a classifier needs nOutputs === nClasses (${nClasses}) unless it is binary logistic, received nOutputs ${nOutputs}.`);
  }
  const tieBreak = spec.tieBreak ?? 'lowestClass';
  if (tieBreak !== 'lowestClass' && tieBreak !== 'firstTreeToReach') {
    throw new ConfigError(`tieBreak must be 'lowestClass' or 'firstTreeToReach', received ${JSON.stringify(tieBreak)}.`);
  }
  const compareDtype = spec.compareDtype ?? 'float32';
  if (compareDtype !== 'float32' && compareDtype !== 'float64') throw new ConfigError(`compareDtype must be 'float32' or 'float64', received ${JSON.stringify(compareDtype)}.`);
  const baseScore = spec.baseScore ?? new Array<number>(nOutputs).fill(0);
  if (!Array.isArray(baseScore) || baseScore.length !== nOutputs || !baseScore.every((v) => Number.isFinite(v))) {
    throw new ConfigError(`baseScore must be ${nOutputs} finite numbers, received ${JSON.stringify(baseScore)}.`);
  }
  const classLabels = spec.classLabels ?? Array.from({ length: nClasses }, (_, i) => i);
  if (!Array.isArray(classLabels) || classLabels.length !== nClasses || !classLabels.every((v) => Number.isFinite(v))) {
    throw new ConfigError(`classLabels must be ${nClasses} numbers, received ${JSON.stringify(classLabels)}.`);
  }
  if (!Array.isArray(spec.trees) || spec.trees.length === 0) throw new DataError(`an ensemble needs at least one tree, received ${spec.trees === undefined ? 'none' : spec.trees.length}.`);
  spec.trees.forEach((t, i) => validateTree(t, i, nFeatures, nOutputs));
  const maxDepth = spec.trees.reduce((m, t) => Math.max(m, treeDepth(t)), 0);
  return Object.freeze({
    type: 'treeEnsemble' as const, kind, nFeatures, nClasses, nOutputs, aggregation, splitRule, compareDtype, postTransform, tieBreak,
    baseScore: [...baseScore], classLabels: [...classLabels], source: spec.source ?? 'unknown', trees: spec.trees, maxDepth,
  });
}

/** True if `x` is an ensemble made by {@link createTreeEnsemble}. */
export function isTreeEnsemble(x: unknown): x is TreeEnsemble {
  return typeof x === 'object' && x !== null && (x as { type?: unknown }).type === 'treeEnsemble';
}
