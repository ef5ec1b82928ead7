/**
 * Fused fake quantization: one `tf.customGrad` per quantizer (ops inside the forward are not taped).
 * Forward, in float32 and Brevitas' order: q = clamp(round_half_even(x / scale + zp), min, max); out = (q - zp) * scale.
 * Backward: round is a straight-through estimator; the clamp either passes the gradient (weights, Brevitas'
 * TensorClampSte) or masks it to [min <= round(x/s) <= max] (activations, Brevitas' TensorClamp).
 * The scale gets d out/d s = (q - x/s) inside the range (q where clamped; always q - x/s for 'ste').
 */
import * as tf from '@tensorflow/tfjs';
import { intRange, type IntGrid } from './int_range.js';
import type { ScaleRestrict } from './config.js';
import { absMaxScale } from './scaling.js';
import {
  actFakeQuantKernel, actFqKernelActive, actFqKernelSupports, fakeQuantKernel, fqKernelSupports, quantKernelsActive, weightFakeQuantKernel,
} from './kernels/ops.js';

/** How the gradient passes the clamp. */
export type ClampGrad = 'ste' | 'mask';

/** Options of `fakeQuantize`. */
export interface FakeQuantizeOptions extends IntGrid {
  /** Scale: a number or a tensor broadcastable to x (per-channel scales). */
  readonly scale: number | tf.Tensor;
  /** @default 0 */
  readonly zeroPoint?: number;
  /** 'ste' (weights) or 'mask' (activations). @default 'mask' */
  readonly clampGrad?: ClampGrad;
  /**
   * Quantize relu(x) = max(x, 0) instead of x, as one op (QuantReLU): equal to `fakeQuantize(tf.relu(x), ...)` in
   * values and gradients, without materializing relu(x) or taping a separate ReLU. @default false
   */
  readonly relu?: boolean;
}

/** Sum `t` down to `shape` (the inverse of broadcasting). */
export function sumToShape(t: tf.Tensor, shape: readonly number[]): tf.Tensor {
  if (t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i])) return t;
  const lead = t.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < t.rank; i++) {
    if (i < lead) axes.push(i);
    else if (shape[i - lead] === 1 && t.shape[i] !== 1) axes.push(i);
  }
  const s = axes.length > 0 ? tf.sum(t, axes, true) : t;
  return tf.reshape(s, shape as number[]);
}

type FqFn = (x: tf.Tensor, s: tf.Tensor) => tf.Tensor;
const cache = new Map<string, FqFn>();

function makeFq(minInt: number, maxInt: number, zp: number, clampGrad: ClampGrad): FqFn {
  const forwardInt = (x: tf.Tensor, s: tf.Tensor): { y: tf.Tensor; r: tf.Tensor; q: tf.Tensor } => {
    let y = tf.div(x, s);
    if (zp !== 0) y = tf.add(y, zp);
    const r = tf.round(y);
    const q = tf.clipByValue(r, minInt, maxInt);
    return { y, r, q };
  };
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor;
    const s = args[1] as tf.Tensor;
    const save = args[2] as tf.GradSaveFunc;
    const { q } = forwardInt(x, s);
    const value = zp !== 0 ? tf.mul(tf.sub(q, zp), s) : tf.mul(q, s);
    save([x, s]);
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const g = dy as tf.Tensor;
        const [xs, ss] = saved as [tf.Tensor, tf.Tensor];
        const { y, r, q: qq } = forwardInt(xs, ss);
        const qc = zp !== 0 ? tf.sub(qq, zp) : qq;
        const yc = zp !== 0 ? tf.sub(y, zp) : y;
        if (clampGrad === 'ste') {
          const ds = sumToShape(tf.mul(g, tf.sub(qc, yc)), ss.shape);
          return [g, ds];
        }
        const inside = tf.logicalAnd(tf.greaterEqual(r, minInt), tf.lessEqual(r, maxInt));
        const dx = tf.where(inside, g, tf.zerosLike(g));
        const dOutDs = tf.where(inside, tf.sub(qc, yc), qc);
        const ds = sumToShape(tf.mul(g, dOutDs), ss.shape);
        return [dx, ds];
      },
    };
  });
  return f as FqFn;
}

/**
 * Fake-quantize `x` (quantize then dequantize) with straight-through gradients. On wasm and cpu this is one fused
 * kernel (QatFakeQuant) with a one-pass gradient; elsewhere the composed tfjs ops (`fakeQuantizeComposed`).
 * @example fakeQuantize(tf.tensor([0.3, 1.7, 9.6]), {scale: 1, bitWidth: 4, signed: true, narrowRange: false}) // [0, 2, 7]
 */
export function fakeQuantize(x: tf.Tensor, o: FakeQuantizeOptions): tf.Tensor {
  return fq(x, o, false);
}

/** The composed-ops reference of `fakeQuantize` (used on backends without the fused kernels, and by tests). */
export function fakeQuantizeComposed(x: tf.Tensor, o: FakeQuantizeOptions): tf.Tensor {
  if (o.relu === true) return tf.tidy(() => fakeQuantizeComposed(tf.relu(x), { ...o, relu: false }));
  const { minInt, maxInt } = intRange(o);
  const zp = o.zeroPoint ?? 0;
  const cg = o.clampGrad ?? 'mask';
  const key = `${minInt}|${maxInt}|${zp}|${cg}`;
  let f = cache.get(key);
  if (f === undefined) {
    f = makeFq(minInt, maxInt, zp, cg);
    cache.set(key, f);
  }
  const fn = f;
  return tf.tidy(() => {
    const s = typeof o.scale === 'number' ? tf.scalar(o.scale) : o.scale;
    return fn(x, s);
  });
}

function fq(x: tf.Tensor, o: FakeQuantizeOptions, intOutput: boolean): tf.Tensor {
  const clampGrad = o.clampGrad ?? 'mask';
  if (o.relu === true && quantKernelsActive() && (clampGrad !== 'mask' || (o.zeroPoint ?? 0) !== 0)) {
    return tf.tidy(() => fq(tf.relu(x), { ...o, relu: false }, intOutput));
  }
  if (!quantKernelsActive()) return composedOf(x, o, intOutput);
  const { minInt, maxInt } = intRange(o);
  const attrs = { minInt, maxInt, zeroPoint: o.zeroPoint ?? 0, clampGrad, intOutput, relu: o.relu === true };
  if (typeof o.scale === 'number') {
    if (x.dtype !== 'float32' || x.size === 0) return composedOf(x, o, intOutput);
    const s = tf.scalar(o.scale);
    const out = fakeQuantKernel(x, s, attrs);
    s.dispose();
    return out;
  }
  if (!fqKernelSupports(x, o.scale)) return composedOf(x, o, intOutput);
  return fakeQuantKernel(x, o.scale, attrs);
}

/**
 * `fakeQuantize(x, {...o, scale: clip / threshold})` that also returns that scale: an activation quantizer whose
 * scale is a clip value over the int threshold T. On wasm and cpu ('mask' gradients, zero point 0, one clip value)
 * the division is folded into the quantizer kernel (QatActFakeQuant); values and gradients, also those reaching
 * `scale` from other uses, are bit for bit those of `tf.div` followed by `fakeQuantize`.
 */
export function fakeQuantizeClipped(
  x: tf.Tensor, clip: tf.Tensor, threshold: number, o: Omit<FakeQuantizeOptions, 'scale'>,
): { out: tf.Tensor; scale: tf.Tensor } {
  const clampGrad = o.clampGrad ?? 'mask';
  if (clampGrad === 'mask' && (o.zeroPoint ?? 0) === 0 && actFqKernelActive() && actFqKernelSupports(x, clip)) {
    const { minInt, maxInt } = intRange(o);
    const [out, scale] = actFakeQuantKernel(x, clip, { minInt, maxInt, relu: o.relu === true, threshold });
    return { out, scale };
  }
  const scale = tf.div(clip, threshold);
  return { out: fakeQuantize(x, { ...o, scale }), scale };
}

/** The composed-ops path. */
function composedOf(x: tf.Tensor, o: FakeQuantizeOptions, intOutput: boolean): tf.Tensor {
  return intOutput ? quantizeToIntComposed(x, o) : fakeQuantizeComposed(x, o);
}

/**
 * The integer tensor of a fake quantization (no gradient): clamp(round(x/scale + zp), min, max), as float32 values.
 */
export function quantizeToInt(x: tf.Tensor, o: FakeQuantizeOptions): tf.Tensor {
  return fq(x, o, true);
}

function quantizeToIntComposed(x: tf.Tensor, o: FakeQuantizeOptions): tf.Tensor {
  if (o.relu === true) return tf.tidy(() => quantizeToIntComposed(tf.relu(x), { ...o, relu: false }));
  const { minInt, maxInt } = intRange(o);
  const zp = o.zeroPoint ?? 0;
  return tf.tidy(() => {
    const s = typeof o.scale === 'number' ? tf.scalar(o.scale) : o.scale;
    let y = tf.div(x, s);
    if (zp !== 0) y = tf.add(y, zp);
    return tf.clipByValue(tf.round(y), minInt, maxInt);
  });
}

/** A weight quantizer: signed grid, abs-max scale with threshold T (per tensor or per last-axis channel). */
export interface WeightFakeQuantOptions extends IntGrid {
  /** The int threshold T: scale = max(max|W|, 1e-10) / T (or its power of two / T). */
  readonly threshold: number;
  /** @default false */
  readonly perChannel?: boolean;
  /** @default 'float' */
  readonly restrict?: ScaleRestrict;
}

/**
 * Brevitas' weight quantizer in one op: scale = absMaxScale(w), wq = fakeQuantize(w, scale, 'ste'). Returns both;
 * gradients are those of the composition (STE to w, plus the scale path to the arg-max elements, including any
 * gradient that reaches `scale` from other uses, e.g. an Int32 bias scale). Fused kernel on wasm and cpu.
 */
export function fakeQuantizeWeight(w: tf.Tensor, o: WeightFakeQuantOptions): { wq: tf.Tensor; scale: tf.Tensor } {
  const perChannel = o.perChannel === true;
  const restrict = o.restrict ?? 'float';
  if (quantKernelsActive() && w.dtype === 'float32' && w.rank >= 1 && w.size > 0) {
    const { minInt, maxInt } = intRange(o);
    const [wq, scale] = weightFakeQuantKernel(w, { threshold: o.threshold, perChannel, pot: restrict === 'powerOfTwo', minInt, maxInt });
    return { wq, scale };
  }
  return tf.tidy(() => {
    const scale = absMaxScale(w, { threshold: o.threshold, perChannel, restrict });
    const wq = fakeQuantize(w, { bitWidth: o.bitWidth, signed: o.signed, narrowRange: o.narrowRange, scale, clampGrad: 'ste' });
    return { wq, scale };
  });
}
