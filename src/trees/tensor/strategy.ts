/** The interface every tensor strategy implements, plus small shared helpers. */
import * as tf from '@tensorflow/tfjs';
import type { SplitRule, TreeEnsemble } from '../tree_ir.js';

/** Hummingbird's tree implementations (`extra_config["tree_implementation"]`), camelCased. */
export type TreeStrategy = 'gemm' | 'treeTraversal' | 'perfectTreeTraversal';

/** A compiled strategy: owns its weight tensors until `dispose()`. */
export interface TreeStrategyImpl {
  /** Which strategy this is. */
  readonly strategy: TreeStrategy;
  /** Per-tree outputs `[nTrees, nRows, nOutputs]` for float32 rows `x` `[nRows, nFeatures]` (call inside tf.tidy). */
  perTree(x: tf.Tensor2D): tf.Tensor3D;
  /** Free the weight tensors. */
  dispose(): void;
}

/** Elementwise split comparison `x rule threshold` as a boolean tensor. */
export function compare(x: tf.Tensor, thresholds: tf.Tensor, rule: SplitRule): tf.Tensor {
  return rule === '<=' ? tf.lessEqual(x, thresholds) : tf.less(x, thresholds);
}

/** Elementwise "goes right": the negation of `x rule threshold` (`x >= t` for `<`, `x > t` for `<=`; inputs are finite). */
export function goesRight(x: tf.Tensor, thresholds: tf.Tensor, rule: SplitRule): tf.Tensor {
  return rule === '<=' ? tf.greater(x, thresholds) : tf.greaterEqual(x, thresholds);
}

/**
 * Offsets `row · nFeatures` of every row into the flattened input, repeated for each tree: an int32 `[trees, rows]`
 * tensor built on the host (a broadcasting add is much slower on wasm than one same-shape add).
 */
export function rowOffsets(trees: number, rows: number, nFeatures: number): tf.Tensor {
  const a = new Int32Array(trees * rows);
  for (let r = 0; r < rows; r++) a[r] = r * nFeatures;
  for (let t = 1; t < trees; t++) a.copyWithin(t * rows, 0, rows);
  return tf.tensor2d(a, [trees, rows], 'int32');
}

/**
 * Hummingbird's default choice by depth: GEMM up to depth 3, perfect tree traversal up to 10, else tree traversal.
 * @example pickStrategy(ensemble) // 'gemm' for depth-3 trees
 */
export function pickStrategy(e: TreeEnsemble): TreeStrategy {
  if (e.maxDepth <= 3) return 'gemm';
  if (e.maxDepth <= 10) return 'perfectTreeTraversal';
  return 'treeTraversal';
}
