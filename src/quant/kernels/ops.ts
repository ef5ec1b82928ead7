/**
 * Calling the fused quantizer kernels (register.ts) through the engine, so each forward is one tape node with a
 * registered gradient. `quantKernelsActive()` tells the public quantizer functions (fake_quant.ts, scaling.ts)
 * whether to use them; otherwise (tfjs-node 'tensorflow', webgl, ...) they run their composed tfjs-op version.
 *
 * Environment: `TFJS_QAT_NO_QUANT_KERNELS=1` starts with the kernels disabled (composed ops everywhere), for A/B
 * benchmarks; `setQuantKernelsEnabled` switches at run time.
 */
import * as tf from '@tensorflow/tfjs';
import { QUANT_KERNELS, registerQuantKernels } from './register.js';

export { avgTruncQuantKernel, truncKernelSupports, truncQuantKernel, type TruncKernelAttrs } from './trunc.js';
export { actFakeQuantKernel, actFqKernelSupports, type ActFqKernelAttrs } from './act_fq.js';
export { actStatKernel, type ActStatKernelAttrs } from './act_stat.js';
export { actStatFakeQuantKernel, type ActStatFqKernelAttrs } from './act_stat_fq.js';

registerQuantKernels();

const envOff = ((): boolean => {
  const v = (typeof process !== 'undefined' ? process.env['TFJS_QAT_NO_QUANT_KERNELS'] : undefined) ?? '';
  return v !== '' && v !== '0' && v.toLowerCase() !== 'false';
})();
let enabled = !envOff;

/** Enable or disable the fused quantizer kernels (composed tfjs ops when disabled). Returns the previous setting. */
export function setQuantKernelsEnabled(on: boolean): boolean {
  const prev = enabled;
  enabled = on;
  return prev;
}

let truncEnabled = true;

/**
 * Enable or disable the fused truncation kernel alone (QuantAvgPool2D then uses its composed ops; the other fused
 * quantizers are unaffected), for A/B benchmarks. Returns the previous setting.
 */
export function setTruncKernelEnabled(on: boolean): boolean {
  const prev = truncEnabled;
  truncEnabled = on;
  return prev;
}

/** True when QuantAvgPool2D's fused truncation kernel runs (quantKernelsActive() and not disabled alone). */
export function truncKernelActive(): boolean {
  return truncEnabled && quantKernelsActive();
}

let actFqEnabled = true;

/**
 * Enable or disable the fused activation-quantizer kernels alone (QatActFakeQuant: the folded scale division, and
 * QatActStat: the statistics step; activations then run tf.div + QatFakeQuant and the composed statistics ops, the
 * same values), for A/B benchmarks and tests. Returns the previous setting.
 */
export function setActFqKernelEnabled(on: boolean): boolean {
  const prev = actFqEnabled;
  actFqEnabled = on;
  return prev;
}

let actStatFqEnabled = true;

/**
 * Enable or disable the one-node statistics-phase kernel alone (QatActStatFakeQuant; activations then run
 * QatActStat + QatActFakeQuant, the same values and gradients), for A/B tests. Returns the previous setting.
 */
export function setActStatFqKernelEnabled(on: boolean): boolean {
  const prev = actStatFqEnabled;
  actStatFqEnabled = on;
  return prev;
}

/** True when a statistics-phase activation forward runs QatActStatFakeQuant. */
export function actStatFqKernelActive(): boolean {
  return actStatFqEnabled && actFqKernelActive();
}

/** True when activations run QatActFakeQuant / QatActStat (quantKernelsActive() and not disabled alone). */
export function actFqKernelActive(): boolean {
  return actFqEnabled && quantKernelsActive();
}

/** True when the fused kernels run on the active backend (wasm or cpu, and not disabled). */
export function quantKernelsActive(): boolean {
  if (!enabled) return false;
  const b = tf.getBackend();
  return (b === 'wasm' || b === 'cpu') && tf.getKernel(QUANT_KERNELS.fakeQuant, b) !== undefined;
}

/** Integer grid and clamp-gradient attributes of QatFakeQuant. */
export interface FqKernelAttrs {
  readonly minInt: number;
  readonly maxInt: number;
  readonly zeroPoint: number;
  readonly clampGrad: 'ste' | 'mask';
  readonly intOutput: boolean;
  /** Quantize max(x, 0) (a fused ReLU; 'mask' gradients only): dx is also zero where x <= 0. */
  readonly relu?: boolean;
}

/**
 * True when QatFakeQuant handles (x, scale): float32, scale of size 1 or one value per last-axis channel
 * ([C], [1,C], ...), with rank <= x's rank (so the output has x's shape).
 */
export function fqKernelSupports(x: tf.Tensor, scale: tf.Tensor): boolean {
  if (x.dtype !== 'float32' || scale.dtype !== 'float32' || x.size === 0 || scale.rank > x.rank) return false;
  if (scale.size === 1) return true;
  const c = x.shape[x.rank - 1];
  return scale.shape[scale.rank - 1] === c && scale.shape.every((d, i) => i === scale.rank - 1 || d === 1);
}

/** QatFakeQuant: one pass forward; its gradient is one pass (dx for 'mask', dscale always). */
export function fakeQuantKernel(x: tf.Tensor, scale: tf.Tensor, a: FqKernelAttrs): tf.Tensor {
  return tf.engine().runKernel(QUANT_KERNELS.fakeQuant, { x, scale }, { ...a }) as tf.Tensor;
}

/** Attributes of the abs-max weight kernels. */
export interface AbsMaxKernelAttrs {
  /** The int threshold T: scale = max|w| / T. */
  readonly threshold: number;
  readonly perChannel: boolean;
  /** Power-of-two scale (2^ceil(log2 max) / T). */
  readonly pot: boolean;
}

/** QatWeightFakeQuant: [wq, scale] in two passes; gradient dw = dwq + Brevitas' scale-path term (one kernel). */
export function weightFakeQuantKernel(w: tf.Tensor, a: AbsMaxKernelAttrs & { minInt: number; maxInt: number }): [tf.Tensor, tf.Tensor] {
  return tf.engine().runKernel(QUANT_KERNELS.weightFakeQuant, { w }, { ...a, zeroPoint: 0 }) as [tf.Tensor, tf.Tensor];
}

/** QatAbsMaxScale: the abs-max scale alone (gradient to the arg-max elements). */
export function absMaxScaleKernel(w: tf.Tensor, a: AbsMaxKernelAttrs): tf.Tensor {
  return tf.engine().runKernel(QUANT_KERNELS.absMaxScale, { w }, { ...a }) as tf.Tensor;
}

/** Largest rank-from-the-top the one-pass selection handles (Brevitas' 99.999 percentile: numel / 100000 + 1). */
export const MAX_SELECT_RANK = 64;

/**
 * QatPercentileStat: max(j-th largest |x|, 1e-10) (a scalar) with the gradient sign(x) at the selected element;
 * with `relu`, of max(x, 0) (gradient 1 at the selected element when it is positive).
 */
export function percentileStatKernel(x: tf.Tensor, rankFromTop: number, relu = false): tf.Tensor {
  const [stat, index] = tf.engine().runKernel(QUANT_KERNELS.percentileStat, { x }, { rank: rankFromTop, relu }) as [tf.Tensor, tf.Tensor];
  index.dispose();
  return stat;
}

/** QatPow2Ceil: exact 2^ceil(log2 v) elementwise (zero gradient). */
export function pow2CeilKernel(v: tf.Tensor): tf.Tensor {
  return tf.engine().runKernel(QUANT_KERNELS.pow2Ceil, { x: v }, {}) as tf.Tensor;
}
