/**
 * Gradient tensors known to be all zeros because of how they were made (e.g. the zero input gradient that
 * QuantLinear / QuantConv2D return for an input whose gradient only feeds Brevitas' `0 * value`; see
 * src/layers/grad_scope.ts). A quantizer's gradient may then skip its pass over the tensor.
 */
import type * as tf from '@tensorflow/tfjs';

const knownZero = new WeakSet<tf.Tensor>();

/** Record that `t` holds only zeros (+0). Returns `t`. */
export function markKnownZero<T extends tf.Tensor>(t: T): T {
  knownZero.add(t);
  return t;
}

/** True when `t` was made as all zeros and recorded by `markKnownZero`. */
export function isKnownZero(t: tf.Tensor | null | undefined): boolean {
  return t !== null && t !== undefined && knownZero.has(t);
}
