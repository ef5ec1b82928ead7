/**
 * Scale computations with Brevitas' gradients:
 * - `absMaxScale`: weight scale max|W| / T per tensor or per output channel, gradient through the max;
 * - `percentileStat`: the activation statistic (k-th value of |x|, Brevitas' kthvalue rule), gradient to the
 *   selected element;
 * - `powerOfTwo`: 2^ceil(log2 v) computed exactly, gradient d/dv = 2^ceil(log2 v) / v (CeilSte chain).
 */
import * as tf from '@tensorflow/tfjs';
import type { ScaleRestrict } from './config.js';
import { MAX_SELECT_RANK, absMaxScaleKernel, percentileStatKernel, pow2CeilKernel, quantKernelsActive } from './kernels/ops.js';

/** Lower bound of every statistic (Brevitas' scaling_min_val / clamp). */
export const MIN_STAT = Math.fround(1e-10);

/** Exact 2^ceil(log2 v) for positive float32 tensors (fixes float32 log rounding at powers of two). No gradient. */
export function exactPow2Ceil(v: tf.Tensor): tf.Tensor {
  if (quantKernelsActive() && v.dtype === 'float32') return pow2CeilKernel(v);
  return tf.tidy(() => {
    const c0 = tf.ceil(tf.div(tf.log(v), Math.LN2));
    const p0 = tf.pow(tf.scalar(2), c0);
    const c1 = tf.where(tf.greaterEqual(tf.div(p0, 2), v), tf.sub(c0, 1), tf.where(tf.less(p0, v), tf.add(c0, 1), c0));
    return tf.pow(tf.scalar(2), c1);
  });
}

const powerOfTwoOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const v = args[0] as tf.Tensor;
  const save = args[1] as tf.GradSaveFunc;
  const s = exactPow2Ceil(v);
  save([v, s]);
  return {
    value: s,
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [vv, ss] = saved as [tf.Tensor, tf.Tensor];
      return [tf.mul(dy as tf.Tensor, tf.div(ss, vv))];
    },
  };
});

/** 2^ceil(log2 v), exact, with the gradient of Brevitas' PoT restriction (ceil is straight-through). */
export function powerOfTwo(v: tf.Tensor): tf.Tensor {
  return powerOfTwoOp(v) as tf.Tensor;
}

/** Options of `absMaxScale`. */
export interface AbsMaxScaleOptions {
  /** The int threshold T (2^(b-1)-1 for narrow signed weights; 2^(b-1) for PoT). */
  readonly threshold: number;
  /** One scale per last-axis channel. @default false */
  readonly perChannel?: boolean;
  /** @default 'float' */
  readonly restrict?: ScaleRestrict;
}

type ScaleFn = (w: tf.Tensor) => tf.Tensor;
const absMaxCache = new Map<string, ScaleFn>();

function reduceAxes(rank: number, perChannel: boolean): number[] {
  const n = perChannel ? rank - 1 : rank;
  return Array.from({ length: n }, (_, i) => i);
}

function makeAbsMax(threshold: number, perChannel: boolean, restrict: ScaleRestrict): ScaleFn {
  const forward = (w: tf.Tensor): { m: tf.Tensor; s: tf.Tensor } => {
    const axes = reduceAxes(w.rank, perChannel);
    const m = tf.maximum(tf.max(tf.abs(w), axes, true), MIN_STAT);
    const s = restrict === 'float' ? tf.div(m, threshold) : tf.div(exactPow2Ceil(m), threshold);
    return { m, s };
  };
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const w = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    const { s } = forward(w);
    save([w]);
    return {
      value: s,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const ww = saved[0] as tf.Tensor;
        const axes = reduceAxes(ww.rank, perChannel);
        const { m, s: ss } = forward(ww);
        const absW = tf.abs(ww);
        const isMax = tf.cast(tf.equal(absW, m), 'float32');
        const count = tf.sum(isMax, axes, true);
        // ds/dm: 1/T (float) or s/m (PoT, through CeilSte); 0 where the statistic was clamped at MIN_STAT.
        const dsDm = restrict === 'float' ? tf.fill(m.shape, 1 / threshold) : tf.div(ss, m);
        const live = tf.cast(tf.greater(tf.max(absW, axes, true), MIN_STAT), 'float32');
        const perElem = tf.div(tf.mul(tf.mul(dy as tf.Tensor, dsDm), live), count);
        return [tf.mul(tf.mul(isMax, tf.sign(ww)), perElem)];
      },
    };
  });
  return f as ScaleFn;
}

/**
 * Weight scale from abs-max statistics: max(max|W|, 1e-10) / T (or its power-of-two version), per tensor
 * (shape [1,..,1]) or per output channel (shape [1,..,1,C]). The gradient flows through the max to the
 * arg-max element(s), as in Brevitas' STATS scaling.
 */
export function absMaxScale(w: tf.Tensor, o: AbsMaxScaleOptions): tf.Tensor {
  if (quantKernelsActive() && w.dtype === 'float32' && w.rank >= 1 && w.size > 0) {
    return absMaxScaleKernel(w, { threshold: o.threshold, perChannel: o.perChannel === true, pot: o.restrict === 'powerOfTwo' });
  }
  return absMaxScaleComposed(w, o);
}

/** The composed-ops reference of `absMaxScale`. */
export function absMaxScaleComposed(w: tf.Tensor, o: AbsMaxScaleOptions): tf.Tensor {
  const key = `${o.threshold}|${o.perChannel === true}|${o.restrict ?? 'float'}`;
  let f = absMaxCache.get(key);
  if (f === undefined) {
    f = makeAbsMax(o.threshold, o.perChannel === true, o.restrict ?? 'float');
    absMaxCache.set(key, f);
  }
  return f(w);
}

/** Brevitas' kthvalue index for a percentile: k = floor(0.01 * q * n + 0.5), 1-based ascending. */
export function percentileK(n: number, percentile: number): number {
  return Math.max(1, Math.min(n, Math.floor(0.01 * percentile * n + 0.5)));
}

type StatFn = (x: tf.Tensor) => tf.Tensor;
const statCache = new Map<number, StatFn>();

function selectStat(x: tf.Tensor, percentile: number): { value: tf.Tensor; index: tf.Tensor } {
  const flat = tf.abs(tf.reshape(x, [-1]));
  const n = flat.size;
  const k = percentileK(n, percentile);
  if (k === n) {
    const index = tf.argMax(flat);
    return { value: tf.max(flat), index };
  }
  const { values, indices } = tf.topk(flat, n - k + 1, true);
  return { value: tf.reshape(tf.slice(values, [n - k], [1]), []), index: tf.reshape(tf.slice(indices, [n - k], [1]), []) };
}

function makeStat(percentile: number): StatFn {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    const { value } = selectStat(x, percentile);
    save([x]);
    return {
      value: tf.maximum(value, MIN_STAT),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const xx = saved[0] as tf.Tensor;
        const { value: v, index } = selectStat(xx, percentile);
        const flat = tf.reshape(xx, [-1]);
        const oneHot = tf.reshape(tf.oneHot(tf.cast(tf.reshape(index, [1]), 'int32'), flat.size), [flat.size]);
        const live = tf.cast(tf.greaterEqual(v, MIN_STAT), 'float32');
        const g = tf.mul(tf.mul(oneHot, tf.sign(flat)), tf.mul(dy as tf.Tensor, live));
        return [tf.reshape(g, xx.shape)];
      },
    };
  });
  return f as StatFn;
}

/**
 * Activation statistic of Brevitas' ParamFromRuntimePercentileScaling: the k-th smallest |x| with
 * k = floor(0.01 * percentile * numel + 0.5) (max|x| when numel < 50000 at 99.999), at least 1e-10.
 * Gradient: sign(x) at the selected element. `relu`: the statistic of relu(x) (QuantReLU), without materializing
 * relu(x) as a taped tensor; the same value and gradient as `percentileStat(tf.relu(x))`.
 */
export function percentileStat(x: tf.Tensor, percentile = 99.999, options: { relu?: boolean } = {}): tf.Tensor {
  const relu = options.relu === true;
  if (quantKernelsActive() && x.dtype === 'float32' && x.size > 0) {
    const j = x.size - percentileK(x.size, percentile) + 1;
    if (j <= MAX_SELECT_RANK) return percentileStatKernel(x, j, relu);
  }
  return relu ? tf.tidy(() => percentileStatComposed(tf.relu(x), percentile)) : percentileStatComposed(x, percentile);
}

/** The composed-ops reference of `percentileStat` (tf.max / tf.topk). */
export function percentileStatComposed(x: tf.Tensor, percentile = 99.999): tf.Tensor {
  let f = statCache.get(percentile);
  if (f === undefined) {
    f = makeStat(percentile);
    statCache.set(percentile, f);
  }
  return f(x);
}
