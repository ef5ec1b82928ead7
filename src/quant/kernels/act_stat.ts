/**
 * One statistics-phase step of an activation quantizer (brevitas-semantics.md §5) as one kernel: the percentile
 * statistic of x (QatPercentileStat, called directly), Brevitas' `+ 0 * value` that keeps the learned value
 * connected to the loss, and the running-buffer update. Bit for bit the composition
 *   clip = tf.add(QatPercentileStat(x), tf.mul(0, value))
 *   buffer' = first ? clip : tf.add(tf.mul(buffer, f32(1 - momentum)), tf.mul(f32(momentum), clip))
 * with one kernel instead of about fifteen (the multiplies, adds, the clone and their saved-input copies).
 *
 * | kernel | inputs | outputs | attrs |
 * |---|---|---|---|
 * | QatActStat | x, value, buffer (one value each) | [clip, index (int32), buffer'] | rank, relu, momentum, first |
 *
 * Gradient: dx = QatPercentileStatGrad(dclip) (the selected element), dvalue = dclip * 0 (Multiply's gradient:
 * zero, or NaN for a non-finite dclip), nothing to the buffer (an assignment).
 */
import * as tf from '@tensorflow/tfjs';
import { f32View, kernelViews, type QuantKernelBackend } from './kernel_io.js';
import { bool, inp, num, type Attrs } from './fq_core.js';

/** Name of the statistics-step kernel. */
export const ACT_STAT_KERNEL = 'QatActStat';

/** Attributes of QatActStat. */
export interface ActStatKernelAttrs {
  /** Rank from the top of the selected |x| (1 = max), as QatPercentileStat. */
  readonly rank: number;
  /** Statistic of max(x, 0) (QuantReLU). */
  readonly relu: boolean;
  /** EMA momentum of the buffer. */
  readonly momentum: number;
  /** First statistics step: the buffer becomes the statistic. */
  readonly first: boolean;
}

const f32 = Math.fround;

/**
 * QatPercentileStat's kernel called inside another kernel (`who`): [stat, index] of x with attributes rank, relu.
 * The caller disposes stat's data.
 */
export function runPercentileStat(who: string, percentileStatName: string, bn: QuantKernelBackend, backend: unknown, x: tf.TensorInfo, a: Attrs): [tf.TensorInfo, tf.TensorInfo] {
  const stat = tf.getKernel(percentileStatName, bn);
  if (stat === undefined) throw new Error(`tfjs-qat ${who}: ${percentileStatName} is not registered for ${bn}`);
  const [statI, indexI] = stat.kernelFunc({ inputs: { x }, backend: backend as tf.KernelBackend, attrs: { rank: num(a, 'rank'), relu: bool(a, 'relu') } }) as tf.TensorInfo[];
  if (statI === undefined || indexI === undefined) throw new Error(`tfjs-qat ${who}: ${percentileStatName} returned no statistic`);
  return [statI, indexI];
}

/** clip = f32(stat + f32(0 * value)) and the buffer after the step (attributes momentum, first), in float32. */
export function statClipAndBuffer(stat: number, value: number, buffer: number, a: Attrs): { clip: number; buffer: number } {
  const clip = f32(stat + f32(0 * value));
  const next = bool(a, 'first') ? clip : f32(f32(buffer * f32(1 - num(a, 'momentum'))) + f32(f32(num(a, 'momentum')) * clip));
  return { clip, buffer: next };
}

const actStat = (percentileStatName: string) => (bn: QuantKernelBackend): tf.KernelFunc => ({ inputs, backend, attrs }) => {
  const x = inp(inputs, 'x');
  const value = inp(inputs, 'value');
  const buffer = inp(inputs, 'buffer');
  const a = (attrs ?? {}) as Attrs;
  const [statI, indexI] = runPercentileStat(ACT_STAT_KERNEL, percentileStatName, bn, backend, x, a);
  const { views, finish } = kernelViews(bn, backend, [statI, value, buffer], [{ shape: value.shape, dtype: 'float32' }, { shape: value.shape, dtype: 'float32' }]);
  const r = statClipAndBuffer(f32View(views.ins[0], 'stat')[0]!, f32View(views.ins[1], 'value')[0]!, f32View(views.ins[2], 'buffer')[0]!, a);
  f32View(views.outs[0], 'clip')[0] = r.clip;
  f32View(views.outs[1], 'buffer')[0] = r.buffer;
  const [clipI, bufI] = finish();
  (backend as tf.KernelBackend).disposeData(statI.dataId);
  return [clipI!, indexI, bufI!];
};

/** [kernel name, kernel factory] of the statistics step (given QatPercentileStat's registered name). */
export function actStatKernelFuncs(percentileStatName: string): Array<[string, (bn: QuantKernelBackend) => tf.KernelFunc]> {
  return [[ACT_STAT_KERNEL, actStat(percentileStatName)]];
}

/** Gradient of QatActStat (given QatPercentileStatGrad's registered name). */
export function actStatGrad(percentileStatGradName: string): tf.GradConfig {
  return {
    kernelName: ACT_STAT_KERNEL,
    inputsToSave: ['x'],
    outputsToSave: [false, true, false],
    gradFunc: (dys, saved, attrs) => {
      const [dclip] = dys as tf.Tensor[];
      const [x, index] = saved as [tf.Tensor, tf.Tensor];
      const g = dclip as tf.Tensor;
      return {
        x: () => tf.engine().runKernel(percentileStatGradName, { dy: g, x, index }, { relu: attrs['relu'] === true }) as tf.Tensor,
        value: () => tf.mul(g, 0),
        buffer: () => tf.zeros(g.shape),
      };
    },
  };
}

/** QatActStat: [clip = stat + 0 * value, updated buffer] of one statistics step (see the module comment). */
export function actStatKernel(x: tf.Tensor, value: tf.Tensor, buffer: tf.Tensor, a: ActStatKernelAttrs): { clip: tf.Tensor; buffer: tf.Tensor } {
  const [clip, index, buf] = tf.engine().runKernel(ACT_STAT_KERNEL, { x, value, buffer }, { ...a }) as [tf.Tensor, tf.Tensor, tf.Tensor];
  index.dispose();
  return { clip, buffer: buf };
}
