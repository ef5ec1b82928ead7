/**
 * Training losses with fused kernels. `softmaxCrossEntropy` returns what `tf.losses.softmaxCrossEntropy(labels,
 * logits)` returns with its defaults, in one forward and one backward kernel instead of ~20 and ~15 (see
 * softmax_ce_kernel.ts for the exact formulas and the gradients, which follow tfjs' own custom gradient).
 */
import * as tf from '@tensorflow/tfjs';
import { registerSoftmaxCEKernels, SOFTMAX_CE_BACKENDS, SOFTMAX_CE_KERNEL } from './softmax_ce_kernel.js';

/** Whether the fused kernel handles these inputs on the active backend. */
function fusable(labels: tf.Tensor, logits: tf.Tensor): boolean {
  const backend = tf.getBackend();
  return (SOFTMAX_CE_BACKENDS as readonly string[]).includes(backend)
    && labels.dtype === 'float32' && logits.dtype === 'float32'
    && logits.rank === 2 && labels.rank === 2
    && labels.shape[0] === logits.shape[0] && labels.shape[1] === logits.shape[1]
    && logits.size > 0;
}

/**
 * Mean over rows of −Σ labels · log_softmax(logits): the value and gradients of
 * `tf.losses.softmaxCrossEntropy(labels, logits)` (weights 1, labelSmoothing 0, SUM_BY_NONZERO_WEIGHTS, which
 * divides by the number of rows), through the fused 'QatSoftmaxCE' kernel on the wasm and cpu backends with
 * float32 [rows, classes] inputs. Anything else (other backends, dtypes or ranks, empty tensors, mismatched
 * shapes) takes `tf.losses.softmaxCrossEntropy` itself. Gradients: wrt logits f32(dy/rows)·(softmax − labels),
 * wrt labels its negation — both exactly tfjs' custom gradient, which assumes label rows that sum to 1.
 * @param labels one-hot or soft labels, [rows, classes].
 * @param logits unnormalized scores, [rows, classes].
 * @returns the scalar loss.
 * @example const loss = softmaxCrossEntropy(tf.oneHot(y, 10).toFloat(), model.apply(x) as tf.Tensor);
 */
export function softmaxCrossEntropy(labels: tf.Tensor, logits: tf.Tensor): tf.Scalar {
  if (!fusable(labels, logits)) return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
  registerSoftmaxCEKernels();
  return tf.engine().runKernel(SOFTMAX_CE_KERNEL, { labels, logits }) as tf.Scalar;
}
