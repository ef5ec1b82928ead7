/**
 * GEMM strategy, after Hummingbird's `GEMMTreeImpl` (`_tree_implementations.py`):
 * 1. `c = (x · W1) rule B1`: W1 one-hot selects each internal node's feature, B1 holds the thresholds;
 * 2. `leaf = (c · W2 == B2)`: W2 is +1 if the leaf lies in the node's left subtree, -1 if right, 0 otherwise;
 *    B2 counts the left turns on the leaf's path;
 * 3. `out = leaf · W3`: W3 holds the leaf values.
 * All trees are padded to the same number of internal nodes and leaves; W2 and W3 are block diagonal over trees,
 * so the whole ensemble is three 2-D products (faster on wasm than batched 3-D products).
 */
import * as tf from '@tensorflow/tfjs';
import { isLeaf, type TreeEnsemble, type TreeParameters } from '../tree_ir.js';
import { exactF32Threshold } from './float32_threshold.js';
import { compare, type TreeStrategyImpl } from './strategy.js';

/** Plain GEMM matrices of one tree (also used by the FHE integer program). */
export interface GemmTreeMatrices {
  /** Internal node ids, in the order of the columns of W1 / rows of W2. */
  internal: number[];
  /** Leaf node ids, in the order of the columns of W2 / rows of W3. */
  leaves: number[];
  /** Feature index of each internal node (the one-hot of W1). */
  features: number[];
  /** Threshold of each internal node (as in the IR). */
  thresholds: number[];
  /** W2 as rows per internal node: +1 / -1 / 0. */
  w2: number[][];
  /** Left-turn count of each leaf. */
  b2: number[];
  /** Value vector of each leaf. */
  w3: number[][];
}

/**
 * Build the GEMM matrices of one tree.
 * @example gemmMatrices(tree).b2 // [1, 0] for a stump
 */
export function gemmMatrices(tree: TreeParameters): GemmTreeMatrices {
  const n = tree.lefts.length;
  const internal: number[] = [];
  const leaves: number[] = [];
  for (let i = 0; i < n; i++) (isLeaf(tree, i) ? leaves : internal).push(i);
  const col = new Map(internal.map((id, k) => [id, k]));
  const w2 = internal.map(() => new Array<number>(leaves.length).fill(0));
  const b2 = new Array<number>(leaves.length).fill(0);
  // Path of each leaf: walk from the root, keeping the (node, direction) pairs.
  const walk = (node: number, path: [number, number][]): void => {
    if (isLeaf(tree, node)) {
      const li = leaves.indexOf(node);
      for (const [anc, dir] of path) {
        (w2[col.get(anc) as number] as number[])[li] = dir;
        if (dir === 1) b2[li] = (b2[li] as number) + 1;
      }
      return;
    }
    walk(tree.lefts[node] as number, [...path, [node, 1]]);
    walk(tree.rights[node] as number, [...path, [node, -1]]);
  };
  walk(0, []);
  return {
    internal, leaves, w2, b2,
    features: internal.map((i) => tree.features[i] as number),
    thresholds: internal.map((i) => tree.thresholds[i] as number),
    w3: leaves.map((i) => [...(tree.values[i] as number[])]),
  };
}

/**
 * Compile an ensemble to the GEMM strategy.
 * @example const impl = gemmStrategy(ensemble); const out = tf.tidy(() => impl.perTree(x));
 */
export function gemmStrategy(e: TreeEnsemble): TreeStrategyImpl {
  const mats = e.trees.map(gemmMatrices);
  const T = mats.length;
  const I = Math.max(1, ...mats.map((m) => m.internal.length));
  const L = Math.max(1, ...mats.map((m) => m.leaves.length));
  const O = e.nOutputs;
  const F = e.nFeatures;
  const w1 = new Float32Array(F * T * I);
  const b1 = new Float32Array(T * I);
  const w2 = new Float32Array(T * I * T * L); // block diagonal [T*I, T*L]
  const b2 = new Float32Array(T * L).fill(-1); // padded leaves never match
  const w3 = new Float32Array(T * L * T * O); // block diagonal [T*L, T*O]
  mats.forEach((m, t) => {
    m.internal.forEach((_, k) => {
      w1[(m.features[k] as number) * T * I + t * I + k] = 1;
      b1[t * I + k] = exactF32Threshold(m.thresholds[k] as number, e.splitRule, e.compareDtype);
      (m.w2[k] as number[]).forEach((v, l) => { w2[(t * I + k) * T * L + t * L + l] = v; });
    });
    m.leaves.forEach((_, l) => {
      b2[t * L + l] = m.b2[l] as number;
      (m.w3[l] as number[]).forEach((v, o) => { w3[(t * L + l) * T * O + t * O + o] = v; });
    });
  });
  const W1 = tf.keep(tf.tensor2d(w1, [F, T * I]));
  const B1 = tf.keep(tf.tensor1d(b1));
  const W2 = tf.keep(tf.tensor2d(w2, [T * I, T * L]));
  const B2 = tf.keep(tf.tensor1d(b2));
  const W3 = tf.keep(tf.tensor2d(w3, [T * L, T * O]));
  return {
    strategy: 'gemm',
    perTree(x: tf.Tensor2D): tf.Tensor3D {
      const n = x.shape[0];
      const c = tf.cast(compare(tf.matMul(x, W1), B1, e.splitRule), 'float32');
      const leaf = tf.cast(tf.equal(tf.matMul(c, W2), B2), 'float32');
      return tf.transpose(tf.reshape(tf.matMul(leaf, W3), [n, T, O]), [1, 0, 2]) as unknown as tf.Tensor3D;
    },
    dispose(): void {
      for (const t of [W1, B1, W2, B2, W3]) t.dispose();
    },
  };
}
