/**
 * Tree traversal strategy, after Hummingbird's `TreeTraversalTreeImpl`: every tree's nodes go in one global table;
 * each row keeps one current node per tree and moves one level per step (`maxDepth` gathers). Leaves point to
 * themselves, so rows that reached a leaf stay there.
 */
import * as tf from '@tensorflow/tfjs';
import type { TreeEnsemble } from '../tree_ir.js';
import { exactF32Threshold } from './float32_threshold.js';
import { compare, type TreeStrategyImpl } from './strategy.js';

/**
 * Compile an ensemble to the tree-traversal strategy.
 * @example const impl = treeTraversalStrategy(ensemble);
 */
export function treeTraversalStrategy(e: TreeEnsemble): TreeStrategyImpl {
  const G = e.trees.reduce((s, t) => s + t.lefts.length, 0);
  const O = e.nOutputs;
  const feat = new Int32Array(G);
  const thr = new Float32Array(G);
  const left = new Int32Array(G);
  const right = new Int32Array(G);
  const vals = new Float32Array(G * O);
  const roots = new Int32Array(e.trees.length);
  let off = 0;
  e.trees.forEach((t, ti) => {
    roots[ti] = off;
    for (let i = 0; i < t.lefts.length; i++) {
      const g = off + i;
      const l = t.lefts[i] as number;
      if (l < 0) {
        left[g] = g; right[g] = g; feat[g] = 0; thr[g] = 0;
        (t.values[i] as number[]).forEach((v, o) => { vals[g * O + o] = v; });
      } else {
        left[g] = off + l; right[g] = off + (t.rights[i] as number);
        feat[g] = t.features[i] as number;
        thr[g] = exactF32Threshold(t.thresholds[i] as number, e.splitRule, e.compareDtype);
      }
    }
    off += t.lefts.length;
  });
  const F = tf.keep(tf.tensor1d(feat, 'int32'));
  const TH = tf.keep(tf.tensor1d(thr));
  const LE = tf.keep(tf.tensor1d(left, 'int32'));
  const RI = tf.keep(tf.tensor1d(right, 'int32'));
  const V = tf.keep(tf.tensor2d(vals, [G, O]));
  const R = tf.keep(tf.tensor2d(roots, [1, e.trees.length], 'int32'));
  return {
    strategy: 'treeTraversal',
    perTree(x: tf.Tensor2D): tf.Tensor3D {
      const [n, nf] = x.shape;
      const flat = tf.reshape(x, [-1]);
      const rowBase = tf.mul(tf.range(0, n, 1, 'int32'), tf.scalar(nf, 'int32')).reshape([n, 1]);
      let idx: tf.Tensor = tf.tile(R, [n, 1]);
      for (let d = 0; d < e.maxDepth; d++) {
        const xv = tf.gather(flat, tf.add(rowBase, tf.gather(F, idx)));
        const go = compare(xv, tf.gather(TH, idx), e.splitRule);
        idx = tf.where(go, tf.gather(LE, idx), tf.gather(RI, idx));
      }
      return tf.transpose(tf.gather(V, idx), [1, 0, 2]) as unknown as tf.Tensor3D;
    },
    dispose(): void {
      for (const t of [F, TH, LE, RI, V, R]) t.dispose();
    },
  };
}
