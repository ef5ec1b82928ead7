/**
 * Perfect tree traversal strategy, after Hummingbird's `PerfectTreeTraversalTreeImpl`: every tree is completed to
 * a perfect tree of depth `maxDepth` (a shallow leaf becomes a dummy split whose two children both hold the
 * leaf's value), so no child tables are needed. Level `d` keeps one table of `T·2^d` nodes where tree `t`'s node
 * `k` sits at `g = (t << d) + k`; its children sit at `2g` and `2g + 1` in the next level's table, so one step is
 * `g = 2g + (x[feature[g]] goes right)`, starting from `g = t`. Lookups are `gatherND` on `[trees, rows]` indices
 * (see tree_traversal.ts for why): 7 same-shape kernels per level.
 */
import * as tf from '@tensorflow/tfjs';
import { isLeaf, type TreeEnsemble } from '../tree_ir.js';
import { exactF32Threshold } from './float32_threshold.js';
import { rowOffsets, goesRight, type TreeStrategyImpl } from './strategy.js';

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
  return {
    strategy: 'perfectTreeTraversal',
    perTree(x: tf.Tensor2D): tf.Tensor3D {
      const [n, nf] = x.shape;
      const flat = tf.reshape(x, [-1]);
      const start = new Int32Array(T * n);
      for (let t = 0; t < T; t++) start.fill(t, t * n, (t + 1) * n);
      let g: tf.Tensor = tf.tensor3d(start, [T, n, 1], 'int32');
      const base = rowOffsets(T, n, nf);
      for (let d = 0; d < D; d++) {
        const xv = tf.gatherND(flat, tf.reshape(tf.add(base, tf.gatherND(FE[d] as tf.Tensor, g)), [T, n, 1]));
        const right = tf.cast(goesRight(xv, tf.gatherND(TH[d] as tf.Tensor, g), e.splitRule), 'int32');
        g = tf.add(tf.add(g, g), tf.reshape(right, [T, n, 1]));
      }
      return tf.gatherND(V, g) as tf.Tensor3D;
    },
    dispose(): void {
      for (const t of [...FE, ...TH, V]) t.dispose();
    },
  };
}
