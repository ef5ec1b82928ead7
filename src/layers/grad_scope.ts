/**
 * Skipping a gradient that can only ever be multiplied by zero.
 *
 * During the statistics phase, a QuantIdentity on the model input gets its scale from the input's statistic. Its
 * learned clip value is connected to the loss only through Brevitas' `+ 0 * value`, so its gradient is exactly 0
 * (brevitas-semantics.md §7). The input is data and needs no gradient. Yet the tape would still compute the full
 * gradient of the quantizer's output, i.e. the first layer's input gradient: one matmul (or conv) per step whose
 * only use is that multiplication by zero.
 *
 * This module lets the two layers agree to skip it:
 * - the training loop runs its forward inside `withVariableOnlyGradients`: gradients are taken with respect to
 *   variables only (tf.variableGrads, optimizer.minimize), never with respect to input data;
 * - the activation quantizer marks its output `zeroGradOnly` when it collects statistics and its input is data
 *   (`inputNeedsNoGradient`);
 * - QuantLinear / QuantConv2D give a marked input a zero gradient instead of the matmul/conv.
 *
 * The clip value's gradient is then 0 * 0 instead of 0 * (a finite number): the same exact zero. The weight and bias
 * gradients are unchanged (the same kernels on the same inputs). The only difference is a non-finite first-layer
 * input gradient, where Brevitas' value gradient would be NaN; the weights' gradients are then non-finite too.
 * Outside the scope (tf.grad on the input, user loops on tf.variableGrads) nothing is skipped.
 */
import * as tf from '@tensorflow/tfjs';
import { markKnownZero } from '../quant/known_zero.js';

let variableOnlyDepth = 0;
const zeroGradOnly = new WeakSet<tf.Tensor>();

/**
 * Run `f` (a loss function passed to tf.variableGrads or optimizer.minimize) with gradients taken only with respect
 * to variables. Returns what `f` returns.
 */
export function withVariableOnlyGradients<T>(f: () => T): T {
  variableOnlyDepth++;
  try {
    return f();
  } finally {
    variableOnlyDepth--;
  }
}

/**
 * True when nothing can need the gradient of `x`: inside `withVariableOnlyGradients`, while a gradient tape
 * records, and no variable is among the tensors `x` was computed from by recorded ops (`x` is data, or made from
 * data by ops such as a flatten or a reshape).
 */
export function inputNeedsNoGradient(x: tf.Tensor): boolean {
  if (variableOnlyDepth === 0) return false;
  const st = tf.engine().state;
  if (!(st.gradientDepth > 0 && st.kernelDepth === 0)) return false;
  const producer = new Map<number, (typeof st.activeTape)[number]>();
  for (const node of st.activeTape) for (const out of node.outputs) producer.set(out.id, node);
  const seen = new Set<number>();
  const stack: tf.Tensor[] = [x];
  for (let t = stack.pop(); t !== undefined; t = stack.pop()) {
    if (seen.has(t.id)) continue;
    seen.add(t.id);
    if (t instanceof tf.Variable) return false;
    const node = producer.get(t.id);
    if (node !== undefined) stack.push(...Object.values(node.inputs));
  }
  return true;
}

/** Mark `t`: its gradient is used only multiplied by zero (see the module comment). */
export function markZeroGradOnly(t: tf.Tensor): void {
  zeroGradOnly.add(t);
}

/** True when `t` was marked by `markZeroGradOnly`. */
export function isZeroGradOnly(t: tf.Tensor): boolean {
  return zeroGradOnly.has(t);
}

/**
 * `forward(x, w)` with a known-zero gradient for x (x marked `zeroGradOnly`) and `weightGrad(x, dy)` for w: the
 * matmul/conv of QuantLinear/QuantConv2D without its input-gradient product.
 */
function withZeroInputGrad<T extends tf.Tensor>(x: T, w: T, forward: (a: T, b: T) => T, weightGrad: (a: T, dy: T) => tf.Tensor): T {
  const f = tf.customGrad((a, b, save) => {
    (save as tf.GradSaveFunc)([a as T]);
    return {
      value: forward(a as T, b as T),
      gradFunc: (dy, saved) => {
        const [sa] = saved as [T];
        return [markKnownZero(tf.zerosLike(sa)), weightGrad(sa, dy as T)];
      },
    };
  });
  return f(x, w) as T;
}

/** x @ w with a zero gradient for x and tfjs' BatchMatMul gradient for w, matMul(x, dy, true, false). */
export function matMulWeightGradOnly(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return withZeroInputGrad(x, w, (a, b) => tf.matMul(a, b), (a, dy) => tf.matMul(a, dy, true, false));
}

/** Conv2D padding argument (as tf.conv2d). */
export type ConvPad = 'valid' | 'same' | [[number, number], [number, number], [number, number], [number, number]];

/**
 * NHWC tf.conv2d(x, w, strides, pad) with a zero gradient for x and tfjs' Conv2D gradient for w (the
 * Conv2DBackpropFilter kernel with the same attributes).
 */
export function conv2dWeightGradOnly(x: tf.Tensor4D, w: tf.Tensor4D, strides: [number, number], pad: ConvPad): tf.Tensor4D {
  return withZeroInputGrad(x, w, (a, b) => tf.conv2d(a, b, strides, pad), (a, dy) => tf.engine().runKernel('Conv2DBackpropFilter', { x: a, dy },
    { strides, pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: w.shape } as unknown as tf.NamedAttrMap) as tf.Tensor);
}
