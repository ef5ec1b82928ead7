/**
 * `convertTrees(model, {strategy})`: a tree ensemble as a tfjs computation (Hummingbird's `convert`).
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError } from '../../errors.js';
import { toTreeEnsemble } from '../converters/index.js';
import type { TreeEnsemble } from '../tree_ir.js';
import { gemmStrategy } from './gemm.js';
import { perfectTreeTraversalStrategy } from './perfect_tree_traversal.js';
import { pickStrategy, type TreeStrategy, type TreeStrategyImpl } from './strategy.js';
import { treeTraversalStrategy } from './tree_traversal.js';

/** Options of {@link convertTrees}. */
export interface ConvertTreesOptions {
  /** Tensor strategy; `'auto'` picks by depth (GEMM ≤ 3, perfect traversal ≤ 10, else traversal). @default 'auto' */
  strategy?: TreeStrategy | 'auto';
  /** Rows evaluated per chunk (bounds memory of the [trees, rows, leaves] intermediates). @default 65536 */
  batchSize?: number;
  /** Classes of an ml-cart/ml-random-forest classifier, if the largest never reaches a leaf. @default inferred */
  nClasses?: number;
  /** Input features of an ml-cart/ml-random-forest model (they do not store it). @default 1 + largest feature used */
  nFeatures?: number;
}

interface ResolvedOptions {
  strategy: TreeStrategy;
  batchSize: number;
}

function resolveConvertTreesOptions(e: TreeEnsemble, o: ConvertTreesOptions): ResolvedOptions {
  const s = o.strategy ?? 'auto';
  const allowed = ['auto', 'gemm', 'treeTraversal', 'perfectTreeTraversal'];
  if (!allowed.includes(s)) throw new ConfigError(`strategy must be one of ${allowed.join(', ')}, received ${JSON.stringify(s)}.`);
  const batchSize = o.batchSize ?? 65536;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`batchSize must be a positive integer, received ${batchSize}.`);
  if (s === 'perfectTreeTraversal' && e.maxDepth > 20) {
    throw new ConfigError(`strategy 'perfectTreeTraversal' needs 2^depth leaves per tree; depth ${e.maxDepth} is too deep. Use 'treeTraversal'.`);
  }
  return { strategy: s === 'auto' ? pickStrategy(e) : s, batchSize };
}

function compile(e: TreeEnsemble, s: TreeStrategy): TreeStrategyImpl {
  switch (s) {
    case 'gemm': return gemmStrategy(e);
    case 'treeTraversal': return treeTraversalStrategy(e);
    case 'perfectTreeTraversal': return perfectTreeTraversalStrategy(e);
    default: {
      const never: never = s;
      throw new ConfigError(`unknown strategy ${String(never)}`);
    }
  }
}

/** A tree ensemble compiled to tfjs ops. Call `dispose()` when done. */
export class TreeTensorModel {
  /** The strategy in use (after resolving `'auto'`). */
  readonly strategy: TreeStrategy;
  /** The neutral IR the model was compiled from. */
  readonly ensemble: TreeEnsemble;
  private readonly impl: TreeStrategyImpl;
  private readonly batchSize: number;
  private readonly base: tf.Tensor1D;
  private readonly labels: tf.Tensor1D;

  /** Use {@link convertTrees}. */
  constructor(ensemble: TreeEnsemble, options: ConvertTreesOptions = {}) {
    const r = resolveConvertTreesOptions(ensemble, options);
    this.ensemble = ensemble;
    this.strategy = r.strategy;
    this.batchSize = r.batchSize;
    this.impl = compile(ensemble, r.strategy);
    this.base = tf.keep(tf.tensor1d(ensemble.baseScore));
    const intLabels = ensemble.classLabels.every((v) => Number.isInteger(v));
    this.labels = tf.keep(tf.tensor1d(ensemble.classLabels, intLabels ? 'int32' : 'float32'));
  }

  private hint(): string {
    return this.ensemble.source.startsWith('ml-') ? ' (ml-cart/ml-random-forest models do not store their feature count: pass {nFeatures} to convertTrees)' : '';
  }

  /** Validated float32 copy of the input (the caller disposes it; the caller's own tensor is never disposed). */
  private input(x: tf.Tensor2D | number[][]): tf.Tensor2D {
    const given = x instanceof tf.Tensor;
    if (!given && (!Array.isArray(x) || !x.every((r) => Array.isArray(r) && r.length === this.ensemble.nFeatures))) {
      throw new DataError(`trees expect rows of ${this.ensemble.nFeatures} numbers (number[][] or a tf.Tensor2D); received ${JSON.stringify(x)?.slice(0, 60)}${this.hint()}.`);
    }
    const t = given ? x : tf.tensor2d(flattenRows(x, this.ensemble.nFeatures), [x.length, this.ensemble.nFeatures]);
    try {
      if (t.rank !== 2 || t.shape[1] !== this.ensemble.nFeatures) {
        throw new DataError(`trees expect inputs of shape [rows, ${this.ensemble.nFeatures}], received [${t.shape.join(', ')}]${this.hint()}.`);
      }
      const finite = tf.tidy(() => tf.all(tf.isFinite(t)).dataSync()[0]);
      if (!finite) throw new DataError('tree inputs must be finite (NaN / Infinity are not supported; impute missing values first).');
      return tf.cast(t, 'float32');
    } finally {
      if (!given) t.dispose();
    }
  }

  /** Run `fn` on row chunks of `x` and concatenate. */
  private chunked(x: tf.Tensor2D | number[][], fn: (chunk: tf.Tensor2D) => tf.Tensor): tf.Tensor {
    const t = this.input(x);
    try {
      const n = t.shape[0];
      if (n <= this.batchSize) return tf.tidy(() => fn(t));
      const parts: tf.Tensor[] = [];
      for (let s = 0; s < n; s += this.batchSize) {
        parts.push(tf.tidy(() => fn(tf.slice(t, [s, 0], [Math.min(this.batchSize, n - s), -1]))));
      }
      const out = tf.concat(parts, 0);
      tf.dispose(parts);
      return out;
    } finally {
      t.dispose();
    }
  }

  /** Per-tree outputs `[nTrees, rows, nOutputs]` (leaf values, before aggregation). */
  perTree(x: tf.Tensor2D | number[][]): tf.Tensor3D {
    const rowsFirst = this.chunked(x, (c) => tf.transpose(this.impl.perTree(c), [1, 0, 2]));
    const out = tf.transpose(rowsFirst, [1, 0, 2]) as tf.Tensor3D;
    rowsFirst.dispose();
    return out;
  }

  private marginOf(perTree: tf.Tensor3D): tf.Tensor2D {
    const s = tf.sum(perTree, 0);
    const agg = this.ensemble.aggregation === 'mean' ? tf.div(s, perTree.shape[0]) : s;
    return tf.add(agg, this.base) as tf.Tensor2D;
  }

  private probaOf(margin: tf.Tensor2D): tf.Tensor2D {
    switch (this.ensemble.postTransform) {
      case 'sigmoid': {
        const p = tf.sigmoid(margin);
        return tf.concat([tf.sub(1, p), p], 1) as tf.Tensor2D;
      }
      case 'softmax': return tf.softmax(margin);
      default: return margin;
    }
  }

  /** Aggregated raw output (margin): `[rows, nOutputs]`. */
  decisionFunction(x: tf.Tensor2D | number[][]): tf.Tensor2D {
    return this.chunked(x, (c) => this.marginOf(this.impl.perTree(c))) as tf.Tensor2D;
  }

  /**
   * Class probabilities `[rows, nClasses]` (classifiers only).
   * @throws ConfigError on a regressor.
   */
  predictProba(x: tf.Tensor2D | number[][]): tf.Tensor2D {
    if (this.ensemble.kind !== 'classifier') throw new ConfigError(`predictProba needs a classifier; this ensemble (${this.ensemble.source}) is a regressor. Use predict.`);
    return this.chunked(x, (c) => this.probaOf(this.marginOf(this.impl.perTree(c)))) as tf.Tensor2D;
  }

  /** Class labels (classifier) or values (regressor), `[rows]`. */
  predict(x: tf.Tensor2D | number[][]): tf.Tensor1D {
    const e = this.ensemble;
    return this.chunked(x, (c) => {
      const per = this.impl.perTree(c);
      const margin = this.marginOf(per);
      if (e.kind === 'regressor') return tf.reshape(margin, [-1]);
      let idx: tf.Tensor;
      if (e.postTransform === 'sigmoid') {
        idx = tf.cast(tf.greater(tf.sigmoid(tf.reshape(margin, [-1])), 0.5), 'int32');
      } else if (e.tieBreak === 'firstTreeToReach') {
        idx = firstToReach(per);
      } else {
        idx = tf.argMax(margin, 1);
      }
      return tf.gather(this.labels, idx);
    }) as tf.Tensor1D;
  }

  /** Free every weight tensor. */
  dispose(): void {
    this.impl.dispose();
    this.base.dispose();
    this.labels.dispose();
  }
}

/**
 * ml-array-mode's vote rule on one-hot per-tree votes `[T, N, C]`: among the classes with the most votes, the one
 * whose count reached that maximum at the earliest tree. A class's count reaches its total at tree
 * `T - Z` where `Z` counts the trees after which no vote for it remains (`suffix sum == 0`), so the winner is the
 * argmax of `total · (T + 1) + Z`: no broadcasting (slow on wasm), and equal to `argMax(total)` when there is no tie.
 */
function firstToReach(votes: tf.Tensor3D): tf.Tensor {
  const T = votes.shape[0];
  const rest = tf.cumsum(votes, 0, true, true);
  const z = tf.sum(tf.cast(tf.equal(rest, 0), 'float32'), 0);
  const total = tf.sum(votes, 0);
  return tf.argMax(tf.add(tf.mul(total, T + 1), z), 1);
}

/**
 * Compile a tree model (any type {@link toTreeEnsemble} accepts) to tfjs computations.
 * @throws UnsupportedLayerError for an unsupported model, ConfigError for bad options.
 * @example
 * const m = convertTrees(rf, {strategy: 'gemm'});
 * const proba = m.predictProba(X); // tf.Tensor2D
 * m.dispose();
 */
export function convertTrees(model: unknown, options: ConvertTreesOptions = {}): TreeTensorModel {
  const e = toTreeEnsemble(model, {
    ...(options.nClasses === undefined ? {} : { nClasses: options.nClasses }),
    ...(options.nFeatures === undefined ? {} : { nFeatures: options.nFeatures }),
  });
  return new TreeTensorModel(e, options);
}

/** Rows into one Float32Array (tfjs' nested-array path infers shapes and flattens recursively: several times slower). */
function flattenRows(rows: readonly (readonly number[])[], nFeatures: number): Float32Array {
  const out = new Float32Array(rows.length * nFeatures);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as readonly number[];
    for (let c = 0; c < nFeatures; c++) out[r * nFeatures + c] = row[c] as number;
  }
  return out;
}

