/**
 * The shape of one kernel patch: which kernel it targets and how to build the replacement config.
 */
import type * as tf from '@tensorflow/tfjs';

/** One kernel tfjs-qat adds or replaces on a backend. */
export interface KernelPatch {
  /** tfjs kernel name, e.g. 'BatchMatMul'. */
  readonly kernelName: string;
  /** One line on what the patch does (for docs and benchmark output). */
  readonly description: string;
  /**
   * Build the config to register, given the currently registered one (undefined when the backend has none).
   * Returns undefined to leave the backend as it is.
   */
  build(original: tf.KernelConfig | undefined): tf.KernelConfig | undefined;
}
