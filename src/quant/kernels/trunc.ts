/**
 * The fused truncation of Brevitas' TruncAvgPool2d (brevitas-semantics.md §6) as one tfjs kernel per direction,
 * bit-identical to the composed ops of src/layers/quant_avg_pool2d.ts on the same backend:
 *   y = f32(v / s); acc = round(y); t = f32(acc / ts); r = round(t) (or floor(t)); q = clamp(r, minInt, maxInt)
 *   out = f32(q * f32(s * ts))
 * Gradient (STE through both roundings): dv = inside ? dy : 0, ds = sum dy * (inside ? f32(f32(q*ts) - y) : f32(q*ts))
 * with inside = minInt <= r <= maxInt. The scale is one value (per tensor); the sum accumulates in double.
 *
 * | kernel | inputs | outputs | attrs |
 * |---|---|---|---|
 * | QatTruncQuant | v, scale | out (v's shape) | ts, minInt, maxInt, floor |
 * | QatTruncQuantGrad | dy, v, scale | [dv, ds] | same |
 * | QatAvgTruncQuant | v, sIn | [out, output scale] (sAvg = sIn / k) | same + k |
 * | QatAvgTruncQuantGrad | dy, v, sIn, ds? | [dv, dsIn] | same + k |
 */
import * as tf from '@tensorflow/tfjs';
import { kernelViews, f32View, type QuantKernelBackend } from './kernel_io.js';
import { rhe } from './loops.js';
import { simdOf } from './simd_paths.js';

/** Names of the truncation kernels. */
export const TRUNC_KERNELS = {
  truncQuant: 'QatTruncQuant', truncQuantGrad: 'QatTruncQuantGrad', avgTruncQuant: 'QatAvgTruncQuant', avgTruncQuantGrad: 'QatAvgTruncQuantGrad',
} as const;

/** Attributes of QatTruncQuant. */
export interface TruncKernelAttrs {
  /** The truncation factor 2^(accBitWidth - outBits). */
  readonly ts: number;
  readonly minInt: number;
  readonly maxInt: number;
  /** Floor instead of round half to even for the truncation ('floor' trunc mode). */
  readonly floor: boolean;
}

/** Constants of one call, as float32 values. */
interface TruncParams {
  readonly s: number;
  readonly ts: number;
  readonly lo: number;
  readonly hi: number;
  readonly floor: boolean;
  /** tfjs-wasm rules (IEEE clamp, nearbyint ties) instead of tfjs-cpu's (strict clamp, ties -0.5 -> +0). */
  readonly wasm: boolean;
}

const f32 = Math.fround;

/** The clamped integer q of one input value and its pre-clamp r (see the module comment). */
function truncInt(v: number, p: TruncParams): { y: number; r: number; q: number } {
  const y = f32(v / p.s);
  const t = f32(rhe(y, !p.wasm) / p.ts);
  const r = p.floor ? Math.floor(t) : rhe(t, !p.wasm);
  const q = p.wasm ? Math.min(p.hi, Math.max(p.lo, r)) : r < p.lo ? p.lo : r > p.hi ? p.hi : r;
  return { y, r, q };
}

/** Forward loop: out = q * sts for i in [from, n). */
export function truncForward(v: Float32Array, out: Float32Array, p: TruncParams, from = 0): void {
  const sts = f32(p.s * p.ts);
  for (let i = from; i < v.length; i++) out[i] = truncInt(v[i]!, p).q * sts;
}

/** Backward loop over [from, n): writes dv, returns the double sum for ds. */
export function truncBackward(dy: Float32Array, v: Float32Array, dv: Float32Array, p: TruncParams, from = 0): number {
  let acc = 0;
  for (let i = from; i < v.length; i++) {
    const { y, r, q } = truncInt(v[i]!, p);
    const qts = f32(q * p.ts);
    const d = dy[i]!;
    if (r >= p.lo && r <= p.hi) {
      dv[i] = d;
      acc += d * f32(qts - y);
    } else {
      dv[i] = 0;
      acc += d * qts;
    }
  }
  return acc;
}

function params(a: Record<string, unknown>, s: number, bn: QuantKernelBackend): TruncParams {
  return { s, ts: f32(Number(a['ts'])), lo: f32(Number(a['minInt'])), hi: f32(Number(a['maxInt'])), floor: a['floor'] === true, wasm: bn === 'wasm' };
}

function inp(inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`tfjs-qat truncation kernel: missing input '${name}'`);
  return t;
}

const body = (n: number): number => n & ~3;

/** out = truncation of v (SIMD body on wasm, JS tail / cpu). */
function truncInto(bn: QuantKernelBackend, backend: unknown, vv: Float32Array, out: Float32Array, p: TruncParams): void {
  const k = bn === 'wasm' ? simdOf(backend) : null;
  let from = 0;
  if (k !== null) {
    from = body(vv.length);
    (p.floor ? k.truncFwdFloor : k.truncFwdRound)(vv.byteOffset, out.byteOffset, from * 4, p.s, p.ts, p.lo, p.hi, f32(p.s * p.ts));
  }
  truncForward(vv, out, p, from);
}

/** Backward: writes dv, returns the double sum for ds. */
function truncGradInto(bn: QuantKernelBackend, backend: unknown, dyv: Float32Array, vv: Float32Array, dv: Float32Array, p: TruncParams): number {
  const k = bn === 'wasm' ? simdOf(backend) : null;
  let from = 0;
  let acc = 0;
  if (k !== null) {
    from = body(vv.length);
    acc = (p.floor ? k.truncGradFloor : k.truncGradRound)(dyv.byteOffset, vv.byteOffset, dv.byteOffset, from * 4, p.s, p.ts, p.lo, p.hi);
  }
  return acc + truncBackward(dyv, vv, dv, p, from);
}

const truncQuant = (bn: QuantKernelBackend): tf.KernelFunc => ({ inputs, backend, attrs }) => {
  const v = inp(inputs, 'v');
  const sc = inp(inputs, 'scale');
  const { views, finish } = kernelViews(bn, backend, [v, sc], [{ shape: v.shape, dtype: 'float32' }]);
  const p = params((attrs ?? {}) as Record<string, unknown>, f32View(views.ins[1], 'scale')[0]!, bn);
  truncInto(bn, backend, f32View(views.ins[0], 'v'), f32View(views.outs[0], 'out'), p);
  return finish()[0]!;
};

const truncQuantGrad = (bn: QuantKernelBackend): tf.KernelFunc => ({ inputs, backend, attrs }) => {
  const dy = inp(inputs, 'dy');
  const v = inp(inputs, 'v');
  const sc = inp(inputs, 'scale');
  const { views, finish } = kernelViews(bn, backend, [dy, v, sc], [{ shape: v.shape, dtype: 'float32' }, { shape: sc.shape, dtype: 'float32' }]);
  const p = params((attrs ?? {}) as Record<string, unknown>, f32View(views.ins[2], 'scale')[0]!, bn);
  f32View(views.outs[1], 'ds')[0] = truncGradInto(bn, backend, f32View(views.ins[0], 'dy'), f32View(views.ins[1], 'v'), f32View(views.outs[0], 'dv'), p);
  return finish();
};

/**
 * QatAvgTruncQuant: the truncation with QuantAvgPool2D's scale arithmetic folded in. Input `scale` is the pooled
 * input's scale sIn; the truncation runs at sAvg = f32(sIn / k) (k = pool area) and the second output is the
 * output scale f32(sAvg * ts). Bit for bit `sAvg = tf.div(tf.reshape(sIn, []), k); [QatTruncQuant(v, sAvg),
 * tf.mul(sAvg, ts)]`: the gradient to sIn is f32(f32(ds + f32(dsOut * ts)) / k) (without the second term when
 * the output scale is unused).
 */
const avgTruncQuant = (bn: QuantKernelBackend): tf.KernelFunc => ({ inputs, backend, attrs }) => {
  const v = inp(inputs, 'v');
  const sc = inp(inputs, 'scale');
  const a = (attrs ?? {}) as Record<string, unknown>;
  const { views, finish } = kernelViews(bn, backend, [v, sc], [{ shape: v.shape, dtype: 'float32' }, { shape: [], dtype: 'float32' }]);
  const p = params(a, f32(f32View(views.ins[1], 'scale')[0]! / f32(Number(a['k']))), bn);
  truncInto(bn, backend, f32View(views.ins[0], 'v'), f32View(views.outs[0], 'out'), p);
  f32View(views.outs[1], 'outScale')[0] = f32(p.s * p.ts);
  return finish();
};

const avgTruncQuantGrad = (bn: QuantKernelBackend): tf.KernelFunc => ({ inputs, backend, attrs }) => {
  const dy = inp(inputs, 'dy');
  const v = inp(inputs, 'v');
  const sc = inp(inputs, 'scale');
  const dsOut = inputs['ds'];
  const a = (attrs ?? {}) as Record<string, unknown>;
  const ins = dsOut === undefined ? [dy, v, sc] : [dy, v, sc, dsOut];
  const { views, finish } = kernelViews(bn, backend, ins, [{ shape: v.shape, dtype: 'float32' }, { shape: sc.shape, dtype: 'float32' }]);
  const k = f32(Number(a['k']));
  const p = params(a, f32(f32View(views.ins[2], 'scale')[0]! / k), bn);
  let ds = f32(truncGradInto(bn, backend, f32View(views.ins[0], 'dy'), f32View(views.ins[1], 'v'), f32View(views.outs[0], 'dv'), p));
  if (dsOut !== undefined) ds = f32(ds + f32(f32View(views.ins[3], 'ds')[0]! * p.ts));
  f32View(views.outs[1], 'dscale')[0] = f32(ds / k);
  return finish();
};

/** [kernel name, kernel factory] of the truncation kernels. */
export const TRUNC_KERNEL_FUNCS: ReadonlyArray<[string, (bn: QuantKernelBackend) => tf.KernelFunc]> = [
  [TRUNC_KERNELS.truncQuant, truncQuant], [TRUNC_KERNELS.truncQuantGrad, truncQuantGrad],
  [TRUNC_KERNELS.avgTruncQuant, avgTruncQuant], [TRUNC_KERNELS.avgTruncQuantGrad, avgTruncQuantGrad],
];

/** Gradient of QatTruncQuant: one QatTruncQuantGrad call gives dv and ds. */
export const TRUNC_GRAD: tf.GradConfig = {
  kernelName: TRUNC_KERNELS.truncQuant,
  inputsToSave: ['v', 'scale'],
  gradFunc: (dy, saved, attrs) => {
    const [v, scale] = saved as [tf.Tensor, tf.Tensor];
    const [dv, ds] = tf.engine().runKernel(TRUNC_KERNELS.truncQuantGrad, { dy: dy as tf.Tensor, v, scale }, attrs) as [tf.Tensor, tf.Tensor];
    return { v: () => dv, scale: () => ds };
  },
};

/** True when QatTruncQuant handles (v, scale): float32, non-empty v, one scale value. */
export function truncKernelSupports(v: tf.Tensor, scale: tf.Tensor): boolean {
  return v.dtype === 'float32' && scale.dtype === 'float32' && v.size > 0 && scale.size === 1;
}

/** QatTruncQuant: the truncated, re-scaled average (one pass), gradient in one pass. */
export function truncQuantKernel(v: tf.Tensor, scale: tf.Tensor, a: TruncKernelAttrs): tf.Tensor {
  return tf.engine().runKernel(TRUNC_KERNELS.truncQuant, { v, scale }, { ...a }) as tf.Tensor;
}

/** Gradient of QatAvgTruncQuant: one QatAvgTruncQuantGrad call gives dv and dscale (output-scale gradient included). */
export const AVG_TRUNC_GRAD: tf.GradConfig = {
  kernelName: TRUNC_KERNELS.avgTruncQuant,
  inputsToSave: ['v', 'scale'],
  gradFunc: (dys, saved, attrs) => {
    const [dOut, dScale] = dys as [tf.Tensor | null, tf.Tensor | null];
    const [v, scale] = saved as [tf.Tensor, tf.Tensor];
    if (dOut === null || dOut === undefined) {
      // (tfjs fills unused outputs' gradients with zeros, so this runs only for direct callers passing null)
      const ds = dScale ?? tf.zeros([]);
      return { v: () => tf.zerosLike(v), scale: () => tf.reshape(tf.div(tf.mul(ds, Number(attrs['ts'])), Number(attrs['k'])), scale.shape) };
    }
    const inputs: tf.NamedTensorMap = { dy: dOut, v, scale };
    if (dScale !== null && dScale !== undefined) inputs['ds'] = dScale;
    const [dv, ds] = tf.engine().runKernel(TRUNC_KERNELS.avgTruncQuantGrad, inputs, attrs) as [tf.Tensor, tf.Tensor];
    return { v: () => dv, scale: () => ds };
  },
};

/**
 * QatAvgTruncQuant: [truncated average at sAvg = sIn / k, output scale sAvg * ts] from the pooled values `v` and the
 * input scale `sIn` (one value), in one kernel; gradient in one kernel.
 */
export function avgTruncQuantKernel(v: tf.Tensor, sIn: tf.Tensor, a: TruncKernelAttrs & { readonly k: number }): [tf.Tensor, tf.Tensor] {
  return tf.engine().runKernel(TRUNC_KERNELS.avgTruncQuant, { v, scale: sIn }, { ...a }) as [tf.Tensor, tf.Tensor];
}
