/**
 * tfjs kernels (wasm and cpu) and gradients of the fused quantizers. Each forward is one registered kernel (one
 * tape node), each backward one kernel; both are JS loops over the backend's memory (see loops.ts).
 *
 * | kernel | inputs | outputs | gradient |
 * |---|---|---|---|
 * | QatFakeQuant | x, scale | fake-quantized x (or its ints) | QatFakeQuantGrad -> dx (mask) and dscale |
 * | QatWeightFakeQuant | w | [wq, scale] (abs-max scale) | QatWeightFakeQuantGrad -> dw (STE + scale path) |
 * | QatAbsMaxScale | w | scale | QatAbsMaxScaleGrad -> dw (arg-max elements) |
 * | QatPercentileStat | x | [stat, index] | QatPercentileStatGrad -> dx (selected element) |
 * | QatPow2Ceil | x | exact 2^ceil(log2 x) | zero |
 */
import * as tf from '@tensorflow/tfjs';
import { kernelViews, f32View, type QuantKernelBackend } from './kernel_io.js';
import {
  MIN_STAT_F32, absMax, addAbsMaxScaleGrad, fakeQuantBackward, fakeQuantForward, pow2Ceil, scaleFromAbsMax, selectTopAbs,
  type GridBounds,
} from './loops.js';

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

type Attrs = Record<string, unknown>;
const num = (a: Attrs, k: string): number => Number(a[k]);
const bool = (a: Attrs, k: string): boolean => a[k] === true;

function bounds(a: Attrs): GridBounds {
  return { minF: Math.fround(num(a, 'minInt')), maxF: Math.fround(num(a, 'maxInt')), zp: num(a, 'zeroPoint') || 0 };
}

/** Shape of the abs-max scale of `w`: [1,..,1] or [1,..,1,C] (same rank as w). */
export function absMaxScaleShape(wShape: readonly number[], perChannel: boolean): number[] {
  const r = wShape.length;
  return wShape.map((d, i) => (perChannel && i === r - 1 ? d : 1));
}

function channels(wShape: readonly number[], perChannel: boolean): number {
  return perChannel && wShape.length > 0 ? wShape[wShape.length - 1]! : 1;
}

function inp(inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`tfjs-qat quantizer kernel: missing input '${name}'`);
  return t;
}

type KF = (bn: QuantKernelBackend) => tf.KernelFunc;

const fakeQuant: KF = (bn) => ({ inputs, backend, attrs }) => {
  const x = inp(inputs, 'x');
  const s = inp(inputs, 'scale');
  const a = (attrs ?? {}) as Attrs;
  const { views, finish } = kernelViews(bn, backend, [x, s], [{ shape: x.shape, dtype: 'float32' }]);
  fakeQuantForward(f32View(views.ins[0], 'x'), f32View(views.ins[1], 'scale'), f32View(views.outs[0], 'out'), bounds(a), bool(a, 'intOutput'));
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
  const ds = new Float64Array(sv.length);
  fakeQuantBackward(f32View(views.ins[0], 'dy'), f32View(views.ins[1], 'x'), sv, ds, mask ? f32View(views.outs[0], 'dx') : null, bounds(a));
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
  absMax(wv, m);
  const sv = f32View(views.outs[1], 'scale');
  for (let c = 0; c < m.length; c++) sv[c] = scaleFromAbsMax(m[c]!, T, pot);
  fakeQuantForward(wv, sv, f32View(views.outs[0], 'wq'), bounds(a), false);
  return finish();
};

const weightFakeQuantGrad: KF = (bn) => ({ inputs, backend, attrs }) => {
  const dwq = inp(inputs, 'dy');
  const dsExt = inp(inputs, 'ds');
  const w = inp(inputs, 'w');
  const s = inp(inputs, 'scale');
  const a = (attrs ?? {}) as Attrs;
  const { T, perChannel, pot } = weightAttrs(a);
  const { views, finish } = kernelViews(bn, backend, [dwq, dsExt, w, s], [{ shape: w.shape, dtype: 'float32' }]);
  const dyv = f32View(views.ins[0], 'dy');
  const wv = f32View(views.ins[2], 'w');
  const sv = f32View(views.ins[3], 'scale');
  const dsv = f32View(views.ins[1], 'ds');
  const ds = new Float64Array(sv.length);
  fakeQuantBackward(dyv, wv, sv, ds, null, bounds(a));
  for (let c = 0; c < ds.length; c++) ds[c] = Math.fround(Math.fround(ds[c]!) + dsv[c]!);
  const m = new Float64Array(sv.length);
  absMax(wv, m);
  const dw = f32View(views.outs[0], 'dw');
  dw.set(dyv);
  addAbsMaxScaleGrad(wv, dw, ds, sv, m, T, pot);
  return finish()[0]!;
};

const absMaxScale: KF = (bn) => ({ inputs, backend, attrs }) => {
  const w = inp(inputs, 'w');
  const { T, perChannel, pot } = weightAttrs((attrs ?? {}) as Attrs);
  const { views, finish } = kernelViews(bn, backend, [w], [{ shape: absMaxScaleShape(w.shape, perChannel), dtype: 'float32' }]);
  const m = new Float64Array(channels(w.shape, perChannel));
  absMax(f32View(views.ins[0], 'w'), m);
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
  const m = new Float64Array(sv.length);
  absMax(wv, m);
  const dw = f32View(views.outs[0], 'dw');
  dw.fill(0);
  addAbsMaxScaleGrad(wv, dw, f32View(views.ins[0], 'ds'), sv, m, T, pot);
  return finish()[0]!;
};

const percentileStat: KF = (bn) => ({ inputs, backend, attrs }) => {
  const x = inp(inputs, 'x');
  const j = num((attrs ?? {}) as Attrs, 'rank');
  const { views, finish } = kernelViews(bn, backend, [x], [{ shape: [], dtype: 'float32' }, { shape: [], dtype: 'int32' }]);
  const { value, index } = selectTopAbs(f32View(views.ins[0], 'x'), j);
  f32View(views.outs[0], 'stat')[0] = value > MIN_STAT_F32 ? value : MIN_STAT_F32;
  (views.outs[1] as Int32Array)[0] = index;
  return finish();
};

const percentileStatGrad: KF = (bn) => ({ inputs, backend }) => {
  const dy = inp(inputs, 'dy');
  const x = inp(inputs, 'x');
  const index = inp(inputs, 'index');
  const { views, finish } = kernelViews(bn, backend, [dy, x, index], [{ shape: x.shape, dtype: 'float32' }]);
  const xv = f32View(views.ins[1], 'x');
  const i = (views.ins[2] as Int32Array)[0] ?? 0;
  const dx = f32View(views.outs[0], 'dx');
  dx.fill(0);
  const v = xv[i]!;
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
    outputsToSave: [false, true],
    gradFunc: (dys, saved, attrs) => {
      const [dwq, ds] = dys as [tf.Tensor, tf.Tensor];
      const [w, scale] = saved as [tf.Tensor, tf.Tensor];
      return { w: () => one(run(QUANT_KERNELS.weightFakeQuantGrad, { dy: dwq, ds, w, scale }, attrs)) };
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
    gradFunc: (dys, saved) => {
      const [dstat] = dys as [tf.Tensor, tf.Tensor];
      const [x, index] = saved as [tf.Tensor, tf.Tensor];
      return { x: () => one(run(QUANT_KERNELS.percentileStatGrad, { dy: dstat, x, index }, {})) };
    },
  },
  {
    kernelName: QUANT_KERNELS.pow2Ceil,
    gradFunc: (dy) => ({ x: () => tf.zerosLike(dy as tf.Tensor) }),
  },
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
