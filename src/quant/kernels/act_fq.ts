/**
 * The activation fake-quantizer with its scale division folded in (brevitas-semantics.md §5): an activation's
 * scale is clip / T (clip = the learned value, or the statistic while collecting), so one kernel takes the clip
 * value and T and returns both the fake-quantized tensor and the scale. Bit for bit the composition
 * `scale = tf.div(clip, T); out = QatFakeQuant(x, scale)` ('mask' gradients), with four fewer kernels per forward
 * and backward (RealDiv and its two saved-input copies, Cast + RealDiv in the gradient).
 *
 * | kernel | inputs | outputs | attrs |
 * |---|---|---|---|
 * | QatActFakeQuant | x, clip (one value) | [out (x's shape), scale = f32(clip / T) (clip's shape)] | minInt, maxInt, relu, threshold |
 * | QatActFakeQuantGrad | dy, x, clip, ds? | [dx, dclip] | same |
 *
 * Gradient: dx as QatFakeQuantGrad ('mask'); dclip = f32(f32(ds + f32(sum dy * d out/d s)) / T), where ds is the
 * gradient that reached the scale output from other uses (tfjs passes zeros when the scale is unused: adding +0
 * changes nothing but the sign of an exactly -0 sum, i.e. |sum| < 1e-45). That is RealDiv's gradient after the
 * engine added the quantizer's contribution last (the quantizer node is taped before any use of its scale).
 */
import * as tf from '@tensorflow/tfjs';
import { f32View, kernelViews, type QuantKernelBackend } from './kernel_io.js';
import { bool, bounds, fakeQuantGradInto, fakeQuantInto, inp, num, type Attrs } from './fq_core.js';

/** Names of the activation kernels. */
export const ACT_FQ_KERNELS = { actFakeQuant: 'QatActFakeQuant', actFakeQuantGrad: 'QatActFakeQuantGrad' } as const;

/** Attributes of QatActFakeQuant. */
export interface ActFqKernelAttrs {
  readonly minInt: number;
  readonly maxInt: number;
  /** Quantize max(x, 0) (QuantReLU); dx is also zero where x <= 0. */
  readonly relu: boolean;
  /** The divisor T of the scale: scale = f32(clip / T). */
  readonly threshold: number;
}

const f32 = Math.fround;

const actFakeQuant = (bn: QuantKernelBackend): tf.KernelFunc => ({ inputs, backend, attrs }) => {
  const x = inp(inputs, 'x');
  const clip = inp(inputs, 'clip');
  const a = (attrs ?? {}) as Attrs;
  const { views, finish } = kernelViews(bn, backend, [x, clip], [{ shape: x.shape, dtype: 'float32' }, { shape: clip.shape, dtype: 'float32' }]);
  const sv = f32View(views.outs[1], 'scale');
  sv[0] = f32(f32View(views.ins[1], 'clip')[0]! / f32(num(a, 'threshold')));
  fakeQuantInto(bn, backend, f32View(views.ins[0], 'x'), sv, f32View(views.outs[0], 'out'), bounds(a, bn), false, bool(a, 'relu'));
  return finish();
};

const actFakeQuantGrad = (bn: QuantKernelBackend): tf.KernelFunc => ({ inputs, backend, attrs }) => {
  const dy = inp(inputs, 'dy');
  const x = inp(inputs, 'x');
  const clip = inp(inputs, 'clip');
  const dsExt = inputs['ds'];
  const a = (attrs ?? {}) as Attrs;
  const ins = dsExt === undefined ? [dy, x, clip] : [dy, x, clip, dsExt];
  const { views, finish } = kernelViews(bn, backend, ins, [{ shape: x.shape, dtype: 'float32' }, { shape: clip.shape, dtype: 'float32' }]);
  const T = f32(num(a, 'threshold'));
  const sv = new Float32Array([f32(f32View(views.ins[2], 'clip')[0]! / T)]);
  const dx = f32View(views.outs[0], 'dx');
  const acc = fakeQuantGradInto(bn, backend, f32View(views.ins[0], 'dy'), f32View(views.ins[1], 'x'), sv, dx, bounds(a, bn), bool(a, 'relu'));
  let ds = f32(acc[0]!);
  if (dsExt !== undefined) ds = f32(f32View(views.ins[3], 'ds')[0]! + ds);
  f32View(views.outs[1], 'dclip')[0] = f32(ds / T);
  return finish();
};

/** [kernel name, kernel factory] of the activation kernels. */
export const ACT_FQ_KERNEL_FUNCS: ReadonlyArray<[string, (bn: QuantKernelBackend) => tf.KernelFunc]> = [
  [ACT_FQ_KERNELS.actFakeQuant, actFakeQuant], [ACT_FQ_KERNELS.actFakeQuantGrad, actFakeQuantGrad],
];

/** Gradient of QatActFakeQuant: one QatActFakeQuantGrad call gives dx and dclip (scale-output gradient included). */
export const ACT_FQ_GRAD: tf.GradConfig = {
  kernelName: ACT_FQ_KERNELS.actFakeQuant,
  inputsToSave: ['x', 'clip'],
  gradFunc: (dys, saved, attrs) => {
    const [dOut, dScale] = dys as [tf.Tensor | null, tf.Tensor | null];
    const [x, clip] = saved as [tf.Tensor, tf.Tensor];
    if (dOut === null || dOut === undefined) {
      // (tfjs fills unused outputs' gradients with zeros, so this runs only for direct callers passing null)
      const ds = dScale ?? tf.zerosLike(clip);
      return { x: () => tf.zerosLike(x), clip: () => tf.div(ds, Number(attrs['threshold'])) };
    }
    const inputs: tf.NamedTensorMap = { dy: dOut, x, clip };
    if (dScale !== null && dScale !== undefined) inputs['ds'] = dScale;
    const [dx, dclip] = tf.engine().runKernel(ACT_FQ_KERNELS.actFakeQuantGrad, inputs, attrs) as [tf.Tensor, tf.Tensor];
    return { x: () => dx, clip: () => dclip };
  },
};

/** True when QatActFakeQuant handles (x, clip): float32, non-empty x, one clip value. */
export function actFqKernelSupports(x: tf.Tensor, clip: tf.Tensor): boolean {
  return x.dtype === 'float32' && clip.dtype === 'float32' && x.size > 0 && clip.size === 1;
}

/** QatActFakeQuant: [fake-quantized x, scale = clip / T] in one kernel, gradient in one kernel. */
export function actFakeQuantKernel(x: tf.Tensor, clip: tf.Tensor, a: ActFqKernelAttrs): [tf.Tensor, tf.Tensor] {
  return tf.engine().runKernel(ACT_FQ_KERNELS.actFakeQuant, { x, clip }, { ...a, zeroPoint: 0 }) as [tf.Tensor, tf.Tensor];
}
