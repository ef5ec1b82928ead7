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

/**
 * Hummingbird's default choice by depth: GEMM up to depth 3, perfect tree traversal up to 10, else tree traversal.
 * @example pickStrategy(ensemble) // 'gemm' for depth-3 trees
 */
export function pickStrategy(e: TreeEnsemble): TreeStrategy {
  if (e.maxDepth <= 3) return 'gemm';
  if (e.maxDepth <= 10) return 'perfectTreeTraversal';
  return 'treeTraversal';
}
