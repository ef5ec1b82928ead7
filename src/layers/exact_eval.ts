/**
 * Integer-exact inference of QuantLinear / QuantConv2D: in inference mode, when the input comes from a quantizer
 * with one scale sIn and every accumulator fits float32's exact integers (< 2^24), the layer computes
 *
 *   acc = (integer input) x (integer weights) [+ Int32Bias integers]     (exact in any summation order)
 *   y   = f32(acc * f32(sIn * sW[c])) [+ float bias]
 *
 * which is exactly what the exported circuit computes (gemm/conv2d node, then its dequantization or table). The
 * float path, sum of f32(qx sIn) * f32(qw sW), differs from it by float32 rounding only, but that rounding can break
 * exact ties of the integer logits (two classes with the same accumulator) differently from the circuit; with this
 * path the model's predictions and the circuit's are the same numbers. Training forwards keep the float path
 * (Brevitas' semantics, and its gradients). Everything stays on the device except the bias (C values).
 */
import * as tf from '@tensorflow/tfjs';
import { intRange } from '../quant/int_range.js';
import { int32Bias } from '../quant/int_bias.js';
import { upstreamProvider } from './quant_meta.js';
import type { QuantWeightLayer } from './quant_weight_layer.js';

/** Integers below this are exact in float32, and so is every sum of them that stays below it. */
const F32_EXACT = 2 ** 24;

let enabled = true;

/** Switch the integer-exact inference path on or off (off: the float path, as in training); returns the previous setting. */
export function setExactInference(on: boolean): boolean {
  const prev = enabled;
  enabled = on;
  return prev;
}

/**
 * The layer's inference output through the integer-exact path, or null when it does not apply (float input, a
 * per-channel input scale, or an accumulator that may reach 2^24). Call inside the layer's tidy.
 * @param wInt the integer weights round(wq / sW) as float32 (asked for only when the path applies; the layer caches it).
 * @param sw the weight scale (broadcastable to the kernel).
 * @param bias the float bias variable's value, or null.
 * @param linear the layer's linear map (matmul or conv) without bias.
 */
export function exactEvalForward(
  layer: QuantWeightLayer, x: tf.Tensor, wInt: () => tf.Tensor, sw: tf.Tensor, bias: tf.Tensor | null,
  linear: (x: tf.Tensor, w: tf.Tensor) => tf.Tensor,
): tf.Tensor | null {
  if (!enabled) return null;
  const p = upstreamProvider(layer);
  const sInT = p?.lastOutputScale() ?? null;
  if (p === null || sInT === null || sInT.size !== 1 || x.dtype !== 'float32') return null;
  const gIn = intRange(p.outputGrid());
  const gW = intRange(layer.weightQuantConfig);
  const inMax = Math.max(Math.abs(gIn.minInt), Math.abs(gIn.maxInt));
  const wMax = Math.max(Math.abs(gW.minInt), Math.abs(gW.maxInt));
  let intBias: Int32Array | null = null;
  let biasMax = 0;
  if (bias !== null && layer.biasQuantMode === 'int32') {
    intBias = int32Bias(bias.dataSync() as Float32Array, sInT.dataSync()[0] ?? NaN, sw.dataSync() as Float32Array);
    for (let c = 0; c < intBias.length; c++) biasMax = Math.max(biasMax, Math.abs(intBias[c] as number));
  }
  if (layer.fanIn() * inMax * wMax + biasMax >= F32_EXACT) return null;
  // x = f32(q sIn) (and wq = f32(q sW)) is within an ulp of an integer multiple of its scale: rounding recovers q.
  let acc = linear(tf.round(tf.div(x, sInT)), wInt());
  if (intBias !== null) acc = tf.add(acc, tf.tensor1d(Float32Array.from(intBias), 'float32'));
  // f32(sIn * sW[c]): one float32 multiply, the same number as the circuit's accumulator scale
  const scale = tf.reshape(tf.mul(sInT, sw), [-1]);
  const y = tf.mul(acc, scale.size === 1 ? tf.reshape(scale, []) : scale);
  return bias !== null && intBias === null ? tf.add(y, bias) : y;
}
