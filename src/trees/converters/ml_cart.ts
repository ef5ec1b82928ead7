/**
 * Converters from mljs trees: ml-cart `DecisionTreeClassifier` / `DecisionTreeRegression` and ml-random-forest
 * `RandomForestClassifier` / `RandomForestRegression`, live objects or their `toJSON()` (also after a JSON round trip).
 *
 * Semantics read from the libraries' sources (ml-cart 2.1.1, ml-random-forest 2.1.0):
 * - a node sends `row[splitColumn] < splitValue` to the left; a node is internal iff it has both `left` and `right`;
 * - a classifier leaf holds `distribution`, a 1×k ml-matrix of class frequencies where k = (largest label seen at
 *   that leaf) + 1; `predict` takes the first maximum (`maxRowIndex`);
 * - a regression leaf holds `distribution`, the mean of its targets (a number);
 * - a forest's tree `i` sees the columns `indexes[i]` of the input; a forest classifier votes (each tree's argmax)
 *   and `predict` returns ml-array-mode's mode (ties go to the class that reached the top count first);
 *   a forest regressor averages (`selectionMethod: 'mean'`; `'median'` is not convertible).
 */
import { UnsupportedLayerError, DataError } from '../../errors.js';
import { createTreeEnsemble, type TreeEnsemble, type TreeParameters } from '../tree_ir.js';

/** Options of the mljs converters. */
export interface MlTreeConvertOptions {
  /** Number of classes, when the largest class never reaches a leaf. @default inferred from the leaves */
  nClasses?: number;
  /** Number of input features. @default 1 + largest feature index used (forests: from `indexes`) */
  nFeatures?: number;
}

interface RawNode {
  left?: unknown;
  right?: unknown;
  splitColumn?: unknown;
  splitValue?: unknown;
  distribution?: unknown;
}

function asRecord(x: unknown): Record<string, unknown> | undefined {
  return typeof x === 'object' && x !== null ? (x as Record<string, unknown>) : undefined;
}

/** Leaf distribution as a plain vector (ml-matrix row vector, its JSON `[[...]]`, or a number for regression). */
function leafVector(d: unknown, where: string): number[] {
  if (typeof d === 'number') return [d];
  const rec = asRecord(d);
  if (rec && typeof rec['to2DArray'] === 'function') {
    const rows = (rec['to2DArray'] as () => number[][]).call(d);
    return [...(rows[0] ?? [])];
  }
  if (Array.isArray(d)) {
    const row = Array.isArray(d[0]) ? (d[0] as unknown[]) : d;
    if (row.every((v) => typeof v === 'number')) return row as number[];
  }
  throw new DataError(`${where}: leaf 'distribution' must be a number or a 1×k matrix, received ${JSON.stringify(d)?.slice(0, 80)}.`);
}

interface FlatTree {
  lefts: number[];
  rights: number[];
  features: number[];
  thresholds: number[];
  leaves: (number[] | undefined)[];
}

function flatten(root: unknown, where: string, featureMap?: readonly number[]): FlatTree {
  const out: FlatTree = { lefts: [], rights: [], features: [], thresholds: [], leaves: [] };
  const visit = (nodeIn: unknown, depth: number): number => {
    const node = asRecord(nodeIn) as RawNode | undefined;
    if (!node) throw new DataError(`${where}: expected a tree node object, received ${String(nodeIn)}.`);
    if (depth > 10000) throw new DataError(`${where}: tree deeper than 10000; is it cyclic?`);
    const id = out.lefts.length;
    out.lefts.push(-1); out.rights.push(-1); out.features.push(-1); out.thresholds.push(0); out.leaves.push(undefined);
    if (asRecord(node.left) && asRecord(node.right)) {
      const col = node.splitColumn;
      const thr = node.splitValue;
      if (!Number.isInteger(col) || typeof thr !== 'number') {
        throw new DataError(`${where}, node ${id}: internal node needs integer splitColumn and numeric splitValue, received ${String(col)}, ${String(thr)}.`);
      }
      const f = featureMap ? featureMap[col as number] : (col as number);
      if (f === undefined) throw new DataError(`${where}, node ${id}: splitColumn ${String(col)} has no entry in the forest's feature indexes.`);
      out.features[id] = f;
      out.thresholds[id] = thr;
      out.lefts[id] = visit(node.left, depth + 1);
      out.rights[id] = visit(node.right, depth + 1);
    } else {
      out.leaves[id] = leafVector(node.distribution, `${where}, node ${id}`);
    }
    return id;
  };
  visit(root, 0);
  return out;
}

function toParams(t: FlatTree, leafValue: (v: number[]) => number[], width: number): TreeParameters {
  return {
    lefts: t.lefts, rights: t.rights, features: t.features, thresholds: t.thresholds,
    values: t.leaves.map((v) => (v === undefined ? new Array<number>(width).fill(0) : leafValue(v))),
  };
}

function firstArgMax(v: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if ((v[i] as number) > (v[best] as number)) best = i;
  return best;
}

function inferClasses(trees: FlatTree[], given: number | undefined): number {
  const seen = trees.reduce((m, t) => t.leaves.reduce((mm, v) => Math.max(mm, v?.length ?? 0), m), 0);
  const n = given ?? seen;
  if (n < seen) throw new DataError(`nClasses ${n} is smaller than a leaf distribution (${seen} classes).`);
  return Math.max(n, 1);
}

function inferFeatures(trees: FlatTree[], given: number | undefined, extra = 0): number {
  const used = trees.reduce((m, t) => Math.max(m, ...t.features), extra - 1) + 1;
  return given ?? Math.max(used, 1);
}

/** Which mljs model `model` is, or undefined. */
export function mlTreeKind(model: unknown): 'DTClassifier' | 'DTRegression' | 'RFClassifier' | 'RFRegression' | undefined {
  const rec = asRecord(model);
  if (!rec) return undefined;
  const name = rec['name'];
  if (name === 'DTClassifier' || name === 'DTRegression' || name === 'RFClassifier' || name === 'RFRegression') return name;
  const ctor = (model as { constructor?: { name?: string } }).constructor?.name;
  if (ctor === 'DecisionTreeClassifier' && asRecord(rec['options'])) return 'DTClassifier';
  if (ctor === 'DecisionTreeRegression' && asRecord(rec['options'])) return 'DTRegression';
  if (Array.isArray(rec['estimators']) && Array.isArray(rec['indexes']) && typeof rec['isClassifier'] === 'boolean') {
    return rec['isClassifier'] ? 'RFClassifier' : 'RFRegression';
  }
  return undefined;
}

/**
 * Convert an ml-cart tree or ml-random-forest forest (live, or `toJSON()` output) to a {@link TreeEnsemble}.
 * @throws UnsupportedLayerError for an untrained model or a forest with `selectionMethod: 'median'`.
 * @example
 * const dt = new DecisionTreeClassifier({maxDepth: 3}); dt.train(X, y);
 * const ensemble = fromMlTree(dt);
 */
export function fromMlTree(model: unknown, options: MlTreeConvertOptions = {}): TreeEnsemble {
  const kind = mlTreeKind(model);
  const rec = asRecord(model) ?? {};
  switch (kind) {
    case 'DTClassifier':
    case 'DTRegression': {
      if (!asRecord(rec['root'])) throw new UnsupportedLayerError(`ml-cart ${kind}: the tree has no 'root'; train it before converting.`);
      const flat = flatten(rec['root'], `ml-cart ${kind}`);
      if (kind === 'DTRegression') {
        return createTreeEnsemble({
          kind: 'regressor', nFeatures: inferFeatures([flat], options.nFeatures), nClasses: 1, nOutputs: 1, aggregation: 'sum',
          splitRule: '<', compareDtype: 'float64', trees: [toParams(flat, (v) => v, 1)], source: 'ml-cart DecisionTreeRegression',
        });
      }
      const nClasses = inferClasses([flat], options.nClasses);
      const pad = (v: number[]): number[] => [...v, ...new Array<number>(nClasses - v.length).fill(0)];
      return createTreeEnsemble({
        kind: 'classifier', nFeatures: inferFeatures([flat], options.nFeatures), nClasses, nOutputs: nClasses, aggregation: 'sum',
        splitRule: '<', compareDtype: 'float64', trees: [toParams(flat, pad, nClasses)], source: 'ml-cart DecisionTreeClassifier',
      });
    }
    case 'RFClassifier':
    case 'RFRegression': {
      const base = asRecord(rec['baseModel']) ?? rec;
      const selection = rec['selectionMethod'] ?? 'mean';
      if (kind === 'RFRegression' && selection !== 'mean') {
        throw new UnsupportedLayerError(`ml-random-forest RandomForestRegression with selectionMethod '${String(selection)}' cannot be converted: only 'mean' is supported (a median of trees is not a sum of leaf values).`);
      }
      const estimators = base['estimators'];
      const indexes = base['indexes'];
      if (!Array.isArray(estimators) || !Array.isArray(indexes) || estimators.length === 0 || estimators.length !== indexes.length) {
        throw new UnsupportedLayerError(`ml-random-forest ${kind}: needs trained 'estimators' and matching 'indexes'; train it before converting.`);
      }
      const flats = estimators.map((est, i) => {
        const idx = indexes[i] as unknown;
        if (!Array.isArray(idx) || !idx.every((v) => Number.isInteger(v))) throw new DataError(`ml-random-forest tree ${i}: 'indexes[${i}]' must be integer feature indexes.`);
        return flatten(asRecord(est)?.['root'], `ml-random-forest tree ${i}`, idx as number[]);
      });
      const maxIndex = (indexes as number[][]).reduce((m, idx) => Math.max(m, ...idx), -1);
      const nFeatures = inferFeatures(flats, options.nFeatures, maxIndex + 1);
      if (kind === 'RFRegression') {
        return createTreeEnsemble({
          kind: 'regressor', nFeatures, nClasses: 1, nOutputs: 1, aggregation: 'mean', splitRule: '<', compareDtype: 'float64',
          trees: flats.map((f) => toParams(f, (v) => v, 1)), source: 'ml-random-forest RandomForestRegression',
        });
      }
      const nClasses = inferClasses(flats, options.nClasses);
      const oneHot = (v: number[]): number[] => {
        const o = new Array<number>(nClasses).fill(0);
        o[firstArgMax(v)] = 1;
        return o;
      };
      return createTreeEnsemble({
        kind: 'classifier', nFeatures, nClasses, nOutputs: nClasses, aggregation: 'mean', splitRule: '<', compareDtype: 'float64', tieBreak: 'firstTreeToReach',
        trees: flats.map((f) => toParams(f, oneHot, nClasses)), source: 'ml-random-forest RandomForestClassifier',
      });
    }
    default:
      throw new UnsupportedLayerError(`fromMlTree: not an ml-cart or ml-random-forest model (name ${JSON.stringify(rec['name'])}); supported: DecisionTreeClassifier, DecisionTreeRegression, RandomForestClassifier, RandomForestRegression, live or toJSON().`);
  }
}
