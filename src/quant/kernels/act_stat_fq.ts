/**
 * One statistics-phase forward of an activation quantizer as ONE tape node: QatActStat (the percentile statistic,
 * `+ 0 * value`, the buffer EMA; act_stat.ts) followed by QatActFakeQuant (act_fq.ts) on the same x. Bit for bit
 * the composition, values and gradients:
 *   [clip, index, buffer'] = QatActStat(x, value, buffer);  [out, scale] = QatActFakeQuant(x, clip)
 *
 * Why: in the composition x feeds two nodes, so the backward builds two full-size gradients of x (the quantizer's,
 * and the statistic's, zero except at the selected element) and the engine adds them: an x-sized allocation, a fill
 * and an Add per quantizer and step. Here the statistic's term is added in place at its one element.
 *
 * | kernel | inputs | outputs | attrs |
 * |---|---|---|---|
 * | QatActStatFakeQuant | x, value, buffer (one value each) | [out, scale, clip, index (int32), buffer'] | rank, relu, momentum, first, minInt, maxInt, threshold |
 * | QatActStatFakeQuantGrad | dy, x, clip, index, ds | [dx, dvalue] | relu, minInt, maxInt, threshold |
 *
 * Gradient, as the composition computes it:
 * - dclip = f32(f32(ds + f32(sum dy * d out/d s)) / T) (QatActFakeQuantGrad; ds = the scale output's gradient);
 * - dx = dx_q + dx_stat, where dx_q is the quantizer's 'mask' gradient and dx_stat is +0 except at the selected
 *   element, where it is ±dclip (QatPercentileStatGrad): every dx_q element gets + 0 (-0 becomes +0, as in the
 *   engine's Add) and the selected one f32(dx_q + dx_stat);
 * - dvalue = f32(dclip * 0) (Multiply's gradient); nothing to the buffer (an assignment).
 * The clip output exists to be saved for the gradient; it is internal (its own gradient is not used).
 */
import * as tf from '@tensorflow/tfjs';
import { f32View, kernelViews, type QuantKernelBackend } from './kernel_io.js';
import { bool, bounds, fakeQuantGradInto, fakeQuantInto, inp, num, type Attrs } from './fq_core.js';
import { fakeQuantBackward, MIN_STAT_F32 } from './loops.js';
import { reluCopy, zeroWhereNotPositive } from './simd_paths.js';
import { isKnownZero } from '../known_zero.js';
import { runPercentileStat, statClipAndBuffer, type ActStatKernelAttrs } from './act_stat.js';
import type { ActFqKernelAttrs } from './act_fq.js';

/** Names of the fused statistics-phase kernels. */
export const ACT_STAT_FQ_KERNELS = { forward: 'QatActStatFakeQuant', grad: 'QatActStatFakeQuantGrad' } as const;

/** Attributes of QatActStatFakeQuant: those of the statistics step and of the quantizer. */
export interface ActStatFqKernelAttrs extends ActStatKernelAttrs, ActFqKernelAttrs {}

const f32 = Math.fround;

const forward = (percentileStatName: string) => (bn: QuantKernelBackend): tf.KernelFunc => ({ inputs, backend, attrs }) => {
  const x = inp(inputs, 'x');
  const value = inp(inputs, 'value');
  const buffer = inp(inputs, 'buffer');
  const a = (attrs ?? {}) as Attrs;
  const relu = bool(a, 'relu');
  const [statI, indexI] = runPercentileStat(ACT_STAT_FQ_KERNELS.forward, percentileStatName, bn, backend, x, a);
  const one = { shape: value.shape, dtype: 'float32' as const };
  const { views, finish } = kernelViews(bn, backend, [x, value, buffer, statI], [{ shape: x.shape, dtype: 'float32' }, one, one, one]);
  const { clip, buffer: next } = statClipAndBuffer(f32View(views.ins[3], 'stat')[0]!, f32View(views.ins[1], 'value')[0]!, f32View(views.ins[2], 'buffer')[0]!, a);
  f32View(views.outs[3], 'buffer')[0] = next;
  f32View(views.outs[2], 'clip')[0] = clip;
  const sv = f32View(views.outs[1], 'scale');
  sv[0] = f32(clip / f32(num(a, 'threshold')));
  fakeQuantInto(bn, backend, f32View(views.ins[0], 'x'), sv, f32View(views.outs[0], 'out'), bounds(a, bn), false, relu);
  const [outI, scaleI, clipI, bufI] = finish();
  (backend as tf.KernelBackend).disposeData(statI.dataId);
  return [outI!, scaleI!, clipI!, indexI, bufI!];
};

const grad = (bn: QuantKernelBackend): tf.KernelFunc => ({ inputs, backend, attrs }) => {
  const dy = inp(inputs, 'dy');
  const x = inp(inputs, 'x');
  const clip = inp(inputs, 'clip');
  const index = inp(inputs, 'index');
  const dsIn = inp(inputs, 'ds');
  const a = (attrs ?? {}) as Attrs;
  const relu = bool(a, 'relu');
  const { views, finish } = kernelViews(bn, backend, [dy, x, clip, index, dsIn], [{ shape: x.shape, dtype: 'float32' }, { shape: clip.shape, dtype: 'float32' }]);
  const T = f32(num(a, 'threshold'));
  const sv = new Float32Array([f32(f32View(views.ins[2], 'clip')[0]! / T)]);
  const dyv = f32View(views.ins[0], 'dy');
  const xv = f32View(views.ins[1], 'x');
  const dx = f32View(views.outs[0], 'dx');
  const g = bounds(a, bn);
  const acc = fakeQuantGradInto(bn, backend, dyv, xv, sv, dx, g, relu, true);
  const dclip = f32(f32(f32View(views.ins[4], 'ds')[0]! + f32(acc[0]!)) / T);
  const i = (views.ins[3] as Int32Array)[0] ?? 0;
  const v = relu ? Math.max(0, xv[i]!) : xv[i]!;
  if (Math.abs(v) >= MIN_STAT_F32) {
    // the quantizer's own dx at i (before + 0), plus the statistic's term
    const xi = xv.subarray(i, i + 1);
    const raw = new Float32Array(1);
    fakeQuantBackward(dyv.subarray(i, i + 1), relu ? reluCopy(xi) : xi, sv, new Float64Array(1), raw, g);
    if (relu) zeroWhereNotPositive(raw, xi);
    dx[i] = f32(raw[0]! + (v > 0 ? dclip : -dclip));
  }
  f32View(views.outs[1], 'dvalue')[0] = f32(dclip * 0);
  return finish();
};

/** [kernel name, kernel factory] of the fused statistics-phase kernels (given QatPercentileStat's registered name). */
export function actStatFqKernelFuncs(percentileStatName: string): Array<[string, (bn: QuantKernelBackend) => tf.KernelFunc]> {
  return [[ACT_STAT_FQ_KERNELS.forward, forward(percentileStatName)], [ACT_STAT_FQ_KERNELS.grad, grad]];
}

/** Gradient of QatActStatFakeQuant: one QatActStatFakeQuantGrad call. */
export const ACT_STAT_FQ_GRAD: tf.GradConfig = {
  kernelName: ACT_STAT_FQ_KERNELS.forward,
  inputsToSave: ['x'],
  outputsToSave: [false, false, true, true, false],
  gradFunc: (dys, saved, attrs) => {
    const [dOut, dScale] = dys as [tf.Tensor, tf.Tensor];
    const [x, clip, index] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
    const ds = dScale ?? tf.zerosLike(clip);
    const run = (): [tf.Tensor, tf.Tensor] => tf.engine().runKernel(ACT_STAT_FQ_KERNELS.grad, { dy: dOut, x, clip, index, ds },
      { relu: attrs['relu'] === true, minInt: attrs['minInt'] as number, maxInt: attrs['maxInt'] as number, threshold: attrs['threshold'] as number, zeroPoint: 0 }) as [tf.Tensor, tf.Tensor];
    if (isKnownZero(dOut)) {
      // dvalue = dclip * 0 is a zero for any finite dclip. With dy known to be all zeros (the first layer's input is
      // data, src/layers/grad_scope.ts) it needs no pass over x: ds * 0 is the same zero (its sign may differ, which
      // no optimizer sees); only a non-finite x would have made it NaN. dx (not needed there) still runs the kernel.
      return { x: () => run()[0], value: () => tf.mul(ds, 0), buffer: () => tf.zeros(clip.shape) };
    }
    const [dx, dvalue] = run();
    return { x: () => dx, value: () => dvalue, buffer: () => tf.zeros(clip.shape) };
  },
};

/** QatActStatFakeQuant: the quantized x, its scale and the updated buffer of one statistics-phase forward. */
export function actStatFakeQuantKernel(x: tf.Tensor, value: tf.Tensor, buffer: tf.Tensor, a: ActStatFqKernelAttrs): { out: tf.Tensor; scale: tf.Tensor; buffer: tf.Tensor } {
  const [out, scale, clip, index, buf] = tf.engine().runKernel(ACT_STAT_FQ_KERNELS.forward, { x, value, buffer }, { ...a, zeroPoint: 0 }) as tf.Tensor[];
  clip!.dispose();
  index!.dispose();
  return { out: out!, scale: scale!, buffer: buf! };
}
