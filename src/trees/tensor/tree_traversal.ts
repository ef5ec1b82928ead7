/**
 * Tree traversal strategy, after Hummingbird's `TreeTraversalTreeImpl`: every tree's nodes go in one global table;
 * each (tree, row) pair keeps one current node and moves one level per step (`maxDepth` steps). Nodes are numbered
 * so that the two children of a node are adjacent (`right = left + 1`), hence one step is
 * `node = left[node] + (x[feature[node]] goes right)`, with no `where` and no right-child table. Leaves point to
 * themselves with an infinite threshold, so rows that reached a leaf stay there.
 *
 * Speed on wasm: every lookup is a `gatherND` on a flat table (tfjs-backend-wasm's `GatherV2` checks each index in a
 * JS loop with a closure, ~15x slower), the layout is `[trees, rows]` from the start (no final transpose), and the
 * per-row offsets into the flattened input are built on the host once per batch (no broadcasting adds, which are
 * slow on wasm): 7 kernels per level, all on same-shape tensors.
 */
import * as tf from '@tensorflow/tfjs';
import { isLeaf, type TreeEnsemble } from '../tree_ir.js';
import { exactF32Threshold } from './float32_threshold.js';
import { rowOffsets, goesRight, type TreeStrategyImpl } from './strategy.js';

/**
 * Compile an ensemble to the tree-traversal strategy.
 * @example const impl = treeTraversalStrategy(ensemble);
 */
export function treeTraversalStrategy(e: TreeEnsemble): TreeStrategyImpl {
  const G = e.trees.reduce((s, t) => s + t.lefts.length, 0);
  const T = e.trees.length;
  const O = e.nOutputs;
  const feat = new Int32Array(G);
  const thr = new Float32Array(G);
  const left = new Int32Array(G);
  const vals = new Float32Array(G * O);
  const roots = new Int32Array(T);
  let next = 0;
  e.trees.forEach((t, ti) => {
    // Breadth-first numbering: the children of a node get two consecutive global ids.
    const id = new Int32Array(t.lefts.length).fill(-1);
    id[0] = next++;
    roots[ti] = id[0] as number;
    const queue = [0];
    for (let q = 0; q < queue.length; q++) {
      const i = queue[q] as number;
      const g = id[i] as number;
      if (isLeaf(t, i)) {
        left[g] = g; feat[g] = 0; thr[g] = Infinity;
        (t.values[i] as number[]).forEach((v, o) => { vals[g * O + o] = v; });
        continue;
      }
      const l = t.lefts[i] as number;
      const r = t.rights[i] as number;
      id[l] = next++;
      id[r] = next++;
      left[g] = id[l] as number;
      feat[g] = t.features[i] as number;
      thr[g] = exactF32Threshold(t.thresholds[i] as number, e.splitRule, e.compareDtype);
      queue.push(l, r);
    }
  });
  const F = tf.keep(tf.tensor1d(feat, 'int32'));
  const TH = tf.keep(tf.tensor1d(thr));
  const LE = tf.keep(tf.tensor1d(left, 'int32'));
  const V = tf.keep(tf.tensor2d(vals, [G, O]));
  return {
    strategy: 'treeTraversal',
    perTree(x: tf.Tensor2D): tf.Tensor3D {
      const [n, nf] = x.shape;
      const flat = tf.reshape(x, [-1]);
      const start = new Int32Array(T * n);
      for (let t = 0; t < T; t++) start.fill(roots[t] as number, t * n, (t + 1) * n);
      let idx: tf.Tensor = tf.tensor3d(start, [T, n, 1], 'int32');
      const base = rowOffsets(T, n, nf);
      for (let d = 0; d < e.maxDepth; d++) {
        const xv = tf.gatherND(flat, tf.reshape(tf.add(base, tf.gatherND(F, idx)), [T, n, 1]));
        const right = tf.cast(goesRight(xv, tf.gatherND(TH, idx), e.splitRule), 'int32');
        idx = tf.reshape(tf.add(tf.gatherND(LE, idx), right), [T, n, 1]);
      }
      return tf.gatherND(V, idx) as tf.Tensor3D;
    },
    dispose(): void {
      for (const t of [F, TH, LE, V]) t.dispose();
    },
  };
}
