/**
 * Perfect tree traversal strategy, after Hummingbird's `PerfectTreeTraversalTreeImpl`: every tree is completed to
 * a perfect tree of depth `maxDepth` (a shallow leaf becomes a dummy split whose two children both hold the
 * leaf's value), so node `k` at level `d` has children `2k` and `2k+1` at level `d+1` and no child tables are needed.
 */
import * as tf from '@tensorflow/tfjs';
import { isLeaf, type TreeEnsemble } from '../tree_ir.js';
import { exactF32Threshold } from './float32_threshold.js';
import { compare, type TreeStrategyImpl } from './strategy.js';

/**
 * Compile an ensemble to the perfect-tree-traversal strategy (memory grows as 2^maxDepth per tree).
 * @example const impl = perfectTreeTraversalStrategy(ensemble);
 */
export function perfectTreeTraversalStrategy(e: TreeEnsemble): TreeStrategyImpl {
  const T = e.trees.length;
  const D = e.maxDepth;
  const O = e.nOutputs;
  const feats = Array.from({ length: D }, (_, d) => new Int32Array(T << d));
  const thrs = Array.from({ length: D }, (_, d) => new Float32Array(T << d));
  const leafVals = new Float32Array((T << D) * O);
  e.trees.forEach((tree, t) => {
    const fill = (node: number, d: number, pos: number): void => {
      if (d === D) {
        (tree.values[node] as number[]).forEach((v, o) => { leafVals[((t << D) + pos) * O + o] = v; });
        return;
      }
      const g = (t << d) + pos;
      if (isLeaf(tree, node)) {
        fill(node, d + 1, 2 * pos);
        fill(node, d + 1, 2 * pos + 1);
        return;
      }
      (feats[d] as Int32Array)[g] = tree.features[node] as number;
      (thrs[d] as Float32Array)[g] = exactF32Threshold(tree.thresholds[node] as number, e.splitRule, e.compareDtype);
      fill(tree.lefts[node] as number, d + 1, 2 * pos);
      fill(tree.rights[node] as number, d + 1, 2 * pos + 1);
    };
    fill(0, 0, 0);
  });
  const FE = feats.map((f) => tf.keep(tf.tensor1d(f, 'int32')));
  const TH = thrs.map((f) => tf.keep(tf.tensor1d(f)));
  const V = tf.keep(tf.tensor2d(leafVals, [T << D, O]));
  const treeBase = Array.from({ length: D + 1 }, (_, d) => tf.keep(tf.tensor2d(Int32Array.from({ length: T }, (_, t) => t << d), [1, T], 'int32')));
  return {
    strategy: 'perfectTreeTraversal',
    perTree(x: tf.Tensor2D): tf.Tensor3D {
      const [n, nf] = x.shape;
      const flat = tf.reshape(x, [-1]);
      const rowBase = tf.mul(tf.range(0, n, 1, 'int32'), tf.scalar(nf, 'int32')).reshape([n, 1]);
      let idx: tf.Tensor = tf.zeros([n, T], 'int32');
      const one = tf.scalar(1, 'int32');
      for (let d = 0; d < D; d++) {
        const g = tf.add(treeBase[d] as tf.Tensor, idx);
        const xv = tf.gather(flat, tf.add(rowBase, tf.gather(FE[d] as tf.Tensor, g)));
        const right = tf.cast(tf.logicalNot(compare(xv, tf.gather(TH[d] as tf.Tensor, g), e.splitRule)), 'int32');
        idx = tf.add(tf.mul(idx, tf.scalar(2, 'int32')), tf.mul(right, one));
      }
      return tf.transpose(tf.gather(V, tf.add(treeBase[D] as tf.Tensor, idx)), [1, 0, 2]) as unknown as tf.Tensor3D;
    },
    dispose(): void {
      for (const t of [...FE, ...TH, V, ...treeBase]) t.dispose();
    },
  };
}
