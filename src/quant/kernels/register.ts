/**
 * tfjs kernels (wasm and cpu) and gradients of the fused quantizers. Each forward is one registered kernel (one
 * tape node), each backward one kernel; both are JS loops over the backend's memory (see loops.ts).
 *
 * | kernel | inputs | outputs | gradient |
 * |---|---|---|---|
 * | QatFakeQuant | x, scale | fake-quantized x (or its ints) | QatFakeQuantGrad -> dx (mask) and dscale |
 * | QatWeightFakeQuant | w | [wq, scale] (abs-max scale) | QatWeightFakeQuantGrad(dy, ds, w) -> dw (STE + scale path) |
 * | QatAbsMaxScale | w | scale | QatAbsMaxScaleGrad -> dw (arg-max elements) |
 * | QatPercentileStat | x | [stat, index] | QatPercentileStatGrad -> dx (selected element) |
 * | QatPow2Ceil | x | exact 2^ceil(log2 x) | zero |
 * | QatTruncQuant | v, scale | TruncAvgPool2d truncation (trunc.ts) | QatTruncQuantGrad -> dv and dscale |
 * | QatActFakeQuant | x, clip | [fake-quantized x, clip / T] (act_fq.ts) | QatActFakeQuantGrad -> dx and dclip |
 * | QatActStat | x, value, buffer | [stat + 0 * value, index, EMA buffer] (act_stat.ts) | QatPercentileStatGrad -> dx |
 * | QatActStatFakeQuant | x, value, buffer | QatActStat then QatActFakeQuant in one node (act_stat_fq.ts) | QatActStatFakeQuantGrad -> dx, dvalue |
 */
import * as tf from '@tensorflow/tfjs';
import { kernelViews, f32View, type QuantKernelBackend } from './kernel_io.js';
import { asWasmBackend } from '../../backend/kernels/kernel_util.js';
import {
  MIN_STAT_F32, absMax, addAbsMaxScaleGrad, fakeQuantBackward, fakeQuantForward, pow2Ceil, scaleFromAbsMax, selectTopAbs,
} from './loops.js';
import {
  reluCopy, simdAbsEqIndices, simdAbsMax, simdFakeQuant, simdFakeQuantGradSteCopy, simdRelu, simdSelectTopAbs,
} from './simd_paths.js';
import type { SimdExports } from './wasm_simd.js';
import { AVG_TRUNC_GRAD, TRUNC_GRAD, TRUNC_KERNEL_FUNCS } from './trunc.js';
import { ACT_FQ_GRAD, ACT_FQ_KERNEL_FUNCS } from './act_fq.js';
import { actStatGrad, actStatKernelFuncs } from './act_stat.js';
import { ACT_STAT_FQ_GRAD, actStatFqKernelFuncs } from './act_stat_fq.js';
import { bool, bounds, fakeQuantGradInto, fakeQuantInto, inp, num, simd, type Attrs } from './fq_core.js';

/** Names of the kernels registered here. */
export const QUANT_KERNELS = {
  fakeQuant: 'QatFakeQuant',
  fakeQuantGrad: 'QatFakeQuantGrad',
  weightFakeQuant: 'QatWeightFakeQuant',
  weightFakeQuantGrad: 'QatWeightFakeQuantGrad',
  absMaxScale: 'QatAbsMaxScale',
  absMaxScaleGrad: 'QatAbsMaxScaleGrad',
  percentileStat: 'QatPercentileStat',
  percentileStatGrad: 'QatPercentileStatGrad',
  pow2Ceil: 'QatPow2Ceil',
} as const;

/** Backends with these kernels. */
export const QUANT_KERNEL_BACKENDS: readonly QuantKernelBackend[] = ['wasm', 'cpu'];

/** Shape of the abs-max scale of `w`: [1,..,1] or [1,..,1,C] (same rank as w). */
export function absMaxScaleShape(wShape: readonly number[], perChannel: boolean): number[] {
  const r = wShape.length;
  return wShape.map((d, i) => (perChannel && i === r - 1 ? d : 1));
}

function channels(wShape: readonly number[], perChannel: boolean): number {
  return perChannel && wShape.length > 0 ? wShape[wShape.length - 1]! : 1;
}

type KF = (bn: QuantKernelBackend) => tf.KernelFunc;

const fakeQuant: KF = (bn) => ({ inputs, backend, attrs }) => {
  const x = inp(inputs, 'x');
  const s = inp(inputs, 'scale');
  const a = (attrs ?? {}) as Attrs;
  const { views, finish } = kernelViews(bn, backend, [x, s], [{ shape: x.shape, dtype: 'float32' }]);
  const sv = f32View(views.ins[1], 'scale');
  fakeQuantInto(bn, backend, f32View(views.ins[0], 'x'), sv, f32View(views.outs[0], 'out'), bounds(a, bn), bool(a, 'intOutput'), bool(a, 'relu'));
  return finish()[0]!;
};

const fakeQuantGrad: KF = (bn) => ({ inputs, backend, attrs }) => {
  const dy = inp(inputs, 'dy');
  const x = inp(inputs, 'x');
  const s = inp(inputs, 'scale');
  const a = (attrs ?? {}) as Attrs;
  const mask = a['clampGrad'] === 'mask';
  const specs = mask ? [{ shape: x.shape, dtype: 'float32' as const }, { shape: s.shape, dtype: 'float32' as const }] : [{ shape: s.shape, dtype: 'float32' as const }];
  const { views, finish } = kernelViews(bn, backend, [dy, x, s], specs);
  const sv = f32View(views.ins[2], 'scale');
  const dx = mask ? f32View(views.outs[0], 'dx') : null;
  const ds = fakeQuantGradInto(bn, backend, f32View(views.ins[0], 'dy'), f32View(views.ins[1], 'x'), sv, dx, bounds(a, bn), bool(a, 'relu'));
  f32View(views.outs[mask ? 1 : 0], 'ds').set(ds);
  return mask ? finish() : finish()[0]!;
};

function weightAttrs(a: Attrs): { T: number; perChannel: boolean; pot: boolean } {
  return { T: num(a, 'threshold'), perChannel: bool(a, 'perChannel'), pot: bool(a, 'pot') };
}

const weightFakeQuant: KF = (bn) => ({ inputs, backend, attrs }) => {
  const w = inp(inputs, 'w');
  const a = (attrs ?? {}) as Attrs;
  const { T, perChannel, pot } = weightAttrs(a);
  const sShape = absMaxScaleShape(w.shape, perChannel);
  const { views, finish } = kernelViews(bn, backend, [w], [{ shape: w.shape, dtype: 'float32' }, { shape: sShape, dtype: 'float32' }]);
  const wv = f32View(views.ins[0], 'w');
  const m = new Float64Array(channels(w.shape, perChannel));
  const g = bounds(a, bn);
  const k = simd(bn, backend, m.length === 1, g);
  if (k !== null) m[0] = simdAbsMax(k, wv);
  else absMax(wv, m);
  const sv = f32View(views.outs[1], 'scale');
  for (let c = 0; c < m.length; c++) sv[c] = scaleFromAbsMax(m[c]!, T, pot);
  if (k !== null) simdFakeQuant(k, wv, f32View(views.outs[0], 'wq'), sv[0]!, g, false);
  else fakeQuantForward(wv, sv, f32View(views.outs[0], 'wq'), g, false);
  return finish();
};

const weightFakeQuantGrad: KF = (bn) => ({ inputs, backend, attrs }) => {
  const dwq = inp(inputs, 'dy');
  const dsExt = inp(inputs, 'ds');
  const w = inp(inputs, 'w');
  const a = (attrs ?? {}) as Attrs;
  const { T, perChannel, pot } = weightAttrs(a);
  const { views, finish } = kernelViews(bn, backend, [dwq, dsExt, w], [{ shape: w.shape, dtype: 'float32' }]);
  const dyv = f32View(views.ins[0], 'dy');
  const wv = f32View(views.ins[2], 'w');
  const dsv = f32View(views.ins[1], 'ds');
  // the forward's abs-max and scale, recomputed (cheaper than saving the scale output: one engine copy less)
  const m = new Float64Array(channels(w.shape, perChannel));
  const g = bounds(a, bn);
  const k = simd(bn, backend, m.length === 1, g);
  if (k !== null) m[0] = simdAbsMax(k, wv);
  else absMax(wv, m);
  const sv = new Float32Array(m.length);
  for (let c = 0; c < m.length; c++) sv[c] = scaleFromAbsMax(m[c]!, T, pot);
  const ds = new Float64Array(sv.length);
  const dw = f32View(views.outs[0], 'dw');
  // dw = dy (straight-through), then the scale path at the arg-max elements
  if (k !== null) ds[0] = simdFakeQuantGradSteCopy(k, dyv, wv, dw, sv[0]!, g);
  else {
    fakeQuantBackward(dyv, wv, sv, ds, null, g);
    dw.set(dyv);
  }
  for (let c = 0; c < ds.length; c++) ds[c] = Math.fround(Math.fround(ds[c]!) + dsv[c]!);
  if (k !== null) addScaleGradAt(k, wv, dw, ds[0]!, sv[0]!, m[0]!, T, pot);
  else addAbsMaxScaleGrad(wv, dw, ds, sv, m, T, pot);
  return finish()[0]!;
};

const absMaxScale: KF = (bn) => ({ inputs, backend, attrs }) => {
  const w = inp(inputs, 'w');
  const { T, perChannel, pot } = weightAttrs((attrs ?? {}) as Attrs);
  const { views, finish } = kernelViews(bn, backend, [w], [{ shape: absMaxScaleShape(w.shape, perChannel), dtype: 'float32' }]);
  const m = new Float64Array(channels(w.shape, perChannel));
  const k = simd(bn, backend, m.length === 1, { minF: 0, maxF: 0, zp: 0 });
  if (k !== null) m[0] = simdAbsMax(k, f32View(views.ins[0], 'w'));
  else absMax(f32View(views.ins[0], 'w'), m);
  const sv = f32View(views.outs[0], 'scale');
  for (let c = 0; c < m.length; c++) sv[c] = scaleFromAbsMax(m[c]!, T, pot);
  return finish()[0]!;
};

const absMaxScaleGrad: KF = (bn) => ({ inputs, backend, attrs }) => {
  const ds = inp(inputs, 'dy');
  const w = inp(inputs, 'w');
  const s = inp(inputs, 'scale');
  const { T, pot } = weightAttrs((attrs ?? {}) as Attrs);
  const { views, finish } = kernelViews(bn, backend, [ds, w, s], [{ shape: w.shape, dtype: 'float32' }]);
  const wv = f32View(views.ins[1], 'w');
  const sv = f32View(views.ins[2], 'scale');
  const dw = f32View(views.outs[0], 'dw');
  dw.fill(0);
  const k = simd(bn, backend, sv.length === 1, { minF: 0, maxF: 0, zp: 0 });
  if (k !== null) {
    addScaleGradAt(k, wv, dw, f32View(views.ins[0], 'ds')[0]!, sv[0]!, simdAbsMax(k, wv), T, pot);
  } else {
    const m = new Float64Array(sv.length);
    absMax(wv, m);
    addAbsMaxScaleGrad(wv, dw, f32View(views.ins[0], 'ds'), sv, m, T, pot);
  }
  return finish()[0]!;
};

/** dw[i] += sign(w_i) * f32(f32(ds/T or ds*s/m) / count) where |w_i| = m = max|w| (per-tensor scale, SIMD search). */
function addScaleGradAt(k: SimdExports, wv: Float32Array, dw: Float32Array, ds: number, s: number, m: number, T: number, pot: boolean): void {
  if (!(m > MIN_STAT_F32)) return;
  const idx = simdAbsEqIndices(k, wv, m);
  if (idx.length === 0) return;
  const dsDm = pot ? Math.fround(s / m) : Math.fround(1 / T);
  const per = Math.fround(Math.fround(Math.fround(ds) * dsDm) / idx.length);
  for (const i of idx) dw[i] = Math.fround(dw[i]! + (wv[i]! > 0 ? per : -per));
}

const percentileStat: KF = (bn) => ({ inputs, backend, attrs }) => {
  const x = inp(inputs, 'x');
  const a = (attrs ?? {}) as Attrs;
  const j = num(a, 'rank');
  const relu = bool(a, 'relu');
  const k = simd(bn, backend, true, { minF: 0, maxF: 0, zp: 0 });
  const n = x.shape.reduce((p, q) => p * q, 1);
  // wasm scratch on the heap: relu(x) (relu) and the block maxima of each level (j > 1), freed before returning.
  const levels = Math.ceil(n / 16) + Math.ceil(n / 256) + Math.ceil(n / 4096) + 16;
  // (for j > 1 the relu is applied on the fly: no relu copy of x)
  const copy = relu && j <= 1;
  const scratch = k !== null && (j > 1 || relu) ? asWasmBackend(backend).makeOutput([(copy ? n : 0) + levels], 'float32') : null;
  const { views, finish } = kernelViews(bn, backend, [x, ...(scratch === null ? [] : [scratch])], [{ shape: [], dtype: 'float32' }, { shape: [], dtype: 'int32' }]);
  const xv0 = f32View(views.ins[0], 'x');
  const sv = scratch === null ? null : f32View(views.ins[1], 'scratch');
  let xv = xv0;
  if (copy) {
    if (sv !== null && k !== null) {
      xv = sv.subarray(0, n);
      simdRelu(k, xv0, xv);
    } else xv = reluCopy(xv0);
  }
  const blocks = sv === null || j <= 1 ? null : sv.subarray(copy ? n : 0);
  const { value, index } = k !== null ? simdSelectTopAbs(k, xv, j, blocks, relu && !copy) : selectTopAbs(relu && !copy ? reluCopy(xv) : xv, j);
  if (scratch !== null) asWasmBackend(backend).disposeData(scratch.dataId);
  f32View(views.outs[0], 'stat')[0] = value > MIN_STAT_F32 ? value : MIN_STAT_F32;
  (views.outs[1] as Int32Array)[0] = index;
  return finish();
};

const percentileStatGrad: KF = (bn) => ({ inputs, backend, attrs }) => {
  const dy = inp(inputs, 'dy');
  const x = inp(inputs, 'x');
  const index = inp(inputs, 'index');
  const { views, finish } = kernelViews(bn, backend, [dy, x, index], [{ shape: x.shape, dtype: 'float32' }]);
  const xv = f32View(views.ins[1], 'x');
  const i = (views.ins[2] as Int32Array)[0] ?? 0;
  const dx = f32View(views.outs[0], 'dx');
  dx.fill(0);
  const v = bool((attrs ?? {}) as Attrs, 'relu') ? Math.max(0, xv[i]!) : xv[i]!;
  if (Math.abs(v) >= MIN_STAT_F32) dx[i] = v > 0 ? f32View(views.ins[0], 'dy')[0]! : -f32View(views.ins[0], 'dy')[0]!;
  return finish()[0]!;
};

const pow2CeilK: KF = (bn) => ({ inputs, backend }) => {
  const x = inp(inputs, 'x');
  const { views, finish } = kernelViews(bn, backend, [x], [{ shape: x.shape, dtype: 'float32' }]);
  const xv = f32View(views.ins[0], 'x');
  const out = f32View(views.outs[0], 'out');
  for (let i = 0; i < xv.length; i++) out[i] = pow2Ceil(xv[i]!);
  return finish()[0]!;
};

const KERNELS: ReadonlyArray<[string, KF]> = [
  [QUANT_KERNELS.fakeQuant, fakeQuant], [QUANT_KERNELS.fakeQuantGrad, fakeQuantGrad],
  [QUANT_KERNELS.weightFakeQuant, weightFakeQuant], [QUANT_KERNELS.weightFakeQuantGrad, weightFakeQuantGrad],
  [QUANT_KERNELS.absMaxScale, absMaxScale], [QUANT_KERNELS.absMaxScaleGrad, absMaxScaleGrad],
  [QUANT_KERNELS.percentileStat, percentileStat], [QUANT_KERNELS.percentileStatGrad, percentileStatGrad],
  [QUANT_KERNELS.pow2Ceil, pow2CeilK],
  ...TRUNC_KERNEL_FUNCS, ...ACT_FQ_KERNEL_FUNCS, ...actStatKernelFuncs(QUANT_KERNELS.percentileStat), ...actStatFqKernelFuncs(QUANT_KERNELS.percentileStat),
];

const run = (name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap): tf.Tensor | tf.Tensor[] =>
  tf.engine().runKernel(name, inputs, attrs);
const one = (t: tf.Tensor | tf.Tensor[]): tf.Tensor => (Array.isArray(t) ? t[0]! : t);

const GRADS: readonly tf.GradConfig[] = [
  {
    kernelName: QUANT_KERNELS.fakeQuant,
    inputsToSave: ['x', 'scale'],
    gradFunc: (dy, saved, attrs) => {
      const g = dy as tf.Tensor;
      const [x, scale] = saved as [tf.Tensor, tf.Tensor];
      if (attrs['intOutput'] === true) return { x: () => tf.zerosLike(x), scale: () => tf.zerosLike(scale) };
      if (attrs['clampGrad'] === 'mask') {
        const [dx, ds] = run(QUANT_KERNELS.fakeQuantGrad, { dy: g, x, scale }, attrs) as [tf.Tensor, tf.Tensor];
        return { x: () => dx, scale: () => ds };
      }
      return { x: () => tf.clone(g), scale: () => one(run(QUANT_KERNELS.fakeQuantGrad, { dy: g, x, scale }, attrs)) };
    },
  },
  {
    kernelName: QUANT_KERNELS.weightFakeQuant,
    inputsToSave: ['w'],
    gradFunc: (dys, saved, attrs) => {
      const [dwq, ds] = dys as [tf.Tensor, tf.Tensor];
      const [w] = saved as [tf.Tensor];
      return { w: () => one(run(QUANT_KERNELS.weightFakeQuantGrad, { dy: dwq, ds, w }, attrs)) };
    },
  },
  {
    kernelName: QUANT_KERNELS.absMaxScale,
    inputsToSave: ['w'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [w, scale] = saved as [tf.Tensor, tf.Tensor];
      return { w: () => one(run(QUANT_KERNELS.absMaxScaleGrad, { dy: dy as tf.Tensor, w, scale }, attrs)) };
    },
  },
  {
    kernelName: QUANT_KERNELS.percentileStat,
    inputsToSave: ['x'],
    outputsToSave: [false, true],
    gradFunc: (dys, saved, attrs) => {
      const [dstat] = dys as [tf.Tensor, tf.Tensor];
      const [x, index] = saved as [tf.Tensor, tf.Tensor];
      return { x: () => one(run(QUANT_KERNELS.percentileStatGrad, { dy: dstat, x, index }, { relu: attrs['relu'] === true })) };
    },
  },
  {
    kernelName: QUANT_KERNELS.pow2Ceil,
    gradFunc: (dy) => ({ x: () => tf.zerosLike(dy as tf.Tensor) }),
  },
  TRUNC_GRAD, AVG_TRUNC_GRAD, ACT_FQ_GRAD, actStatGrad(QUANT_KERNELS.percentileStatGrad), ACT_STAT_FQ_GRAD,
];

let done = false;

/** Register the quantizer kernels for wasm and cpu and their gradients (idempotent; runs on import of ops.ts). */
export function registerQuantKernels(): void {
  if (done) return;
  done = true;
  for (const bn of QUANT_KERNEL_BACKENDS) {
    for (const [name, kf] of KERNELS) {
      if (tf.getKernel(name, bn) === undefined) tf.registerKernel({ kernelName: name, backendName: bn, kernelFunc: kf(bn) });
    }
  }
  for (const g of GRADS) if (tf.getGradient(g.kernelName) === undefined) tf.registerGradient(g);
}
