/**
 * The activation scale of Brevitas' ParameterFromRuntimeStatsScaling as a pure step function
 * (brevitas-semantics.md §5). The caller (a layer) owns the state and applies the returned updates.
 *
 *   TRAIN, counter < steps:   scale = stat(x)/T; buffer = stat (first step) or EMA; counter += 1
 *   TRAIN, counter > steps:   scale = value/T (learned); at counter == steps call learnedValueFromBuffer first
 *   EVAL:                     clip = counter <= steps ? buffer : value; scale = |clip|/T
 *
 * Power-of-two presets: scale = 2^ceil(log2(clip/T)) with T = 2^(b-1) (signed) or 2^b (unsigned), and the
 * learned `value` is kept in the log2 domain, as Brevitas' PoT restriction stores it.
 */
import * as tf from '@tensorflow/tfjs';
import type { ActQuantConfig } from './config.js';
import { intRange, intThreshold, potIntThreshold } from './int_range.js';
import { percentileK, percentileStat, powerOfTwo, exactPow2Ceil } from './scaling.js';
import { actFqKernelActive, actFqKernelSupports, actStatFakeQuantKernel, actStatFqKernelActive, actStatKernel, MAX_SELECT_RANK } from './kernels/ops.js';

/** The state of one activation quantizer (Brevitas: counter, buffer, value). */
export interface ActQuantState {
  /** Training forwards seen so far (steps + 1 once the learned phase started). */
  readonly counter: number;
  /** Running statistic (clip value in input units), a scalar tensor. */
  readonly buffer: tf.Tensor;
  /** Learned clip value (log2 of it for power-of-two presets), a scalar tensor (a trainable variable). */
  readonly value: tf.Tensor;
}

/** What one forward of the scale computes: the scale and the state updates to apply. */
export interface ActScaleStep {
  /** Scalar scale tensor (differentiable where Brevitas' is). */
  readonly scale: tf.Tensor;
  /** New buffer value, when it changes. */
  readonly buffer?: tf.Tensor;
  /** New learned value, at the switch to the learned phase. */
  readonly value?: tf.Tensor;
  /** New counter. */
  readonly counter: number;
}

/** The int threshold T this config divides the clip value by. */
export function actThreshold(cfg: ActQuantConfig): number {
  return cfg.restrict === 'powerOfTwo' ? potIntThreshold(cfg) : intThreshold(cfg);
}

/**
 * One forward of the activation scale, split where the scale is a plain division: `clip` with scale = clip / T
 * (`threshold`), so the caller can fold the division into the quantizer (`fakeQuantizeClipped`); power-of-two and
 * constant scales come as `scale`. Exactly one of the two is set.
 */
export type ActScaleParts = ({ readonly clip: tf.Tensor; readonly scale?: undefined } | { readonly scale: tf.Tensor; readonly clip?: undefined }) & {
  /** The divisor T of `clip`. */
  readonly threshold: number;
  /** New buffer value, when it changes. */
  readonly buffer?: tf.Tensor;
  /** New counter. */
  readonly counter: number;
};

/**
 * One forward of the activation scale. `statsInput` is what the statistic is taken over (|x| of the raw
 * input for QuantIdentity, relu(x) for QuantReLU: pass the layer input x with `relu: true`, which takes the
 * statistic of relu(x) without materializing it). Must run inside a tidy/tape owned by the caller.
 */
export function activationScaleStep(
  statsInput: tf.Tensor, cfg: ActQuantConfig, state: ActQuantState, training: boolean, options: { relu?: boolean } = {},
): ActScaleStep {
  const p = activationScaleParts(statsInput, cfg, state, training, options);
  const scale = p.clip !== undefined ? tf.div(p.clip, p.threshold) : p.scale;
  return p.buffer !== undefined ? { scale, buffer: p.buffer, counter: p.counter } : { scale, counter: p.counter };
}

/** `activationScaleStep` with the division clip / T left to the caller where the scale is one (see ActScaleParts). */
export function activationScaleParts(
  statsInput: tf.Tensor, cfg: ActQuantConfig, state: ActQuantState, training: boolean, options: { relu?: boolean } = {},
): ActScaleParts {
  const T = actThreshold(cfg);
  const pot = cfg.restrict === 'powerOfTwo';
  const counter = state.counter;
  if (cfg.scaling.kind === 'const') {
    return { scale: tf.scalar(cfg.scaling.scale), threshold: T, counter };
  }
  const { collectStatsSteps: steps, momentum, percentile } = cfg.scaling;
  if (!training) {
    if (counter <= steps) {
      const clip = tf.abs(state.buffer);
      return pot ? { scale: exactPow2Ceil(tf.div(clip, T)), threshold: T, counter } : { clip, threshold: T, counter };
    }
    return pot ? { scale: learnedPotScale(state.value, T, false), threshold: T, counter } : { clip: tf.abs(state.value), threshold: T, counter };
  }
  if (collectsStats(cfg, counter, training)) {
    const relu = options.relu === true;
    const fused = fusedStatStep(statsInput, state, { momentum, percentile, relu, first: counter === 0 });
    let stat: tf.Tensor, buffer: tf.Tensor;
    if (fused !== null) ({ clip: stat, buffer } = fused);
    else {
      // + 0 * value, as Brevitas: the learned value is connected to the loss with an exactly-zero gradient.
      stat = tf.add(percentileStat(statsInput, percentile, { relu }), tf.mul(0, state.value));
      const s = tf.clone(stat); // assigned to the buffer: no gradient flows through an assignment
      const keep = Math.fround(1 - momentum);
      buffer = counter === 0 ? s : tf.add(tf.mul(state.buffer, keep), tf.mul(Math.fround(momentum), s));
    }
    return pot ? { scale: powerOfTwo(tf.div(stat, T)), threshold: T, buffer, counter: counter + 1 } : { clip: stat, threshold: T, buffer, counter: counter + 1 };
  }
  return pot ? { scale: learnedPotScale(state.value, T, true), threshold: T, counter } : { clip: state.value, threshold: T, counter };
}

/**
 * The statistics step as one kernel (QatActStat: statistic + 0 * value and the buffer update, bit-identical to the
 * composed ops below), or null where it does not apply (fused kernels off, non-float32 or scalar-shape mismatch,
 * percentile rank above MAX_SELECT_RANK).
 */
function fusedStatStep(
  x: tf.Tensor, state: ActQuantState, o: { momentum: number; percentile: number; relu: boolean; first: boolean },
): { clip: tf.Tensor; buffer: tf.Tensor } | null {
  const { value, buffer } = state;
  if (!actFqKernelActive() || x.dtype !== 'float32' || x.size === 0 || value.dtype !== 'float32' || buffer.dtype !== 'float32') return null;
  if (value.size !== 1 || buffer.rank !== value.rank || buffer.size !== 1) return null;
  const rank = x.size - percentileK(x.size, o.percentile) + 1;
  if (rank > MAX_SELECT_RANK) return null;
  return actStatKernel(x, value, buffer, { rank, relu: o.relu, momentum: o.momentum, first: o.first });
}

/**
 * A statistics-phase training forward, scale and quantizer together, as one kernel (QatActStatFakeQuant: bit for bit
 * `activationScaleParts` followed by `fakeQuantizeClipped` with 'mask' gradients), or null where it does not apply
 * (not collecting, power-of-two scale, fused kernels off, non-float32 or non-scalar state, percentile rank above
 * MAX_SELECT_RANK): then use those two.
 */
export function statsStepFakeQuant(
  x: tf.Tensor, cfg: ActQuantConfig, state: ActQuantState, training: boolean, options: { relu?: boolean } = {},
): { out: tf.Tensor; scale: tf.Tensor; buffer: tf.Tensor; counter: number } | null {
  if (!collectsStats(cfg, state.counter, training) || cfg.scaling.kind !== 'runtimeStats' || cfg.restrict === 'powerOfTwo') return null;
  const { value, buffer } = state;
  if (!actStatFqKernelActive() || !actFqKernelSupports(x, value) || buffer.dtype !== 'float32' || buffer.size !== 1 || buffer.rank !== value.rank) return null;
  const rank = x.size - percentileK(x.size, cfg.scaling.percentile) + 1;
  if (rank > MAX_SELECT_RANK) return null;
  const { minInt, maxInt } = intRange(cfg);
  const r = actStatFakeQuantKernel(x, value, buffer, {
    rank, relu: options.relu === true, momentum: cfg.scaling.momentum, first: state.counter === 0, minInt, maxInt, threshold: actThreshold(cfg),
  });
  return { ...r, counter: state.counter + 1 };
}

/**
 * The switch to the learned phase (training forward number steps + 1): value := buffer (log2(buffer) for
 * PoT). The caller assigns it, sets counter = steps + 1, then calls `activationScaleStep` again.
 */
export function learnedValueFromBuffer(buffer: tf.Tensor, cfg: ActQuantConfig): tf.Tensor {
  return cfg.restrict === 'powerOfTwo' ? tf.div(tf.log(buffer), Math.LN2) : tf.clone(buffer);
}

/**
 * True when a forward with this counter takes the statistic of its input (training, runtime statistics, counter
 * below collectStatsSteps): the only phase in which `activationScaleStep` reads `statsInput`.
 */
export function collectsStats(cfg: ActQuantConfig, counter: number, training: boolean): boolean {
  return training && cfg.scaling.kind === 'runtimeStats' && counter < cfg.scaling.collectStatsSteps;
}

/** True when a training forward must first switch the quantizer to its learned phase. */
export function needsLearnedSwitch(cfg: ActQuantConfig, counter: number): boolean {
  return cfg.scaling.kind === 'runtimeStats' && counter === cfg.scaling.collectStatsSteps;
}

/** Learned-phase power-of-two scale: 2^ceil(value - log2 T) (straight-through ceil when differentiable). */
function learnedPotScale(value: tf.Tensor, T: number, differentiable: boolean): tf.Tensor {
  const arg = tf.pow(2, tf.sub(value, Math.log2(T)));
  return differentiable ? powerOfTwo(arg) : exactPow2Ceil(arg);
}
