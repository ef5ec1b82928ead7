/**
 * QuantAvgPool2D: Brevitas v0.12.1 `TruncAvgPool2d` (brevitas-semantics.md §6). On a quantized input with
 * scale s and bit width b, kernel k = kh*kw:
 *   acc = round(avg / (s/k))            (the exact integer sum of the input integers)
 *   bwAvg = ceil(log2((2^b - 1) * k)); ts = 2^(bwAvg - outBits)
 *   q = clamp(round_half_even(acc / ts) (or floor), output range); out = q * (s/k) * ts
 * On wasm and cpu the truncation is one fused kernel (QatTruncQuant, src/quant/kernels/trunc.ts, bit-identical to
 * the composed `makeTrunc` below, which runs on the other backends).
 */
import * as tf from '@tensorflow/tfjs';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import { ConfigError } from '../errors.js';
import { normalizeEnum } from '../quant/config.js';
import { intRange, validateBitWidth } from '../quant/int_range.js';
import { avgTruncQuantKernel, truncKernelActive, truncKernelSupports } from '../quant/kernels/ops.js';
import { replaceKept, upstreamProvider, type QuantMeta, type QuantOutputProvider } from './quant_meta.js';
import { singleShape, singleTensor } from './util.js';

/** Rounding of the truncation: Brevitas' RoundTo8bit ('round', v0.12 default) or TruncTo8bit ('floor'). */
export type TruncMode = 'round' | 'floor';

/** Options of QuantAvgPool2D. */
export interface QuantAvgPool2DArgs extends LayerArgs {
  /** Pool size, square or [kh, kw] (required). */
  poolSize: number | [number, number];
  /** @default poolSize */
  strides?: number | [number, number];
  /** @default 'round' */
  truncMode?: TruncMode;
  /** Output bit width. @default 8 */
  bitWidth?: number;
}

type TruncFn = (v: tf.Tensor, s: tf.Tensor) => tf.Tensor;
const truncCache = new Map<string, TruncFn>();

function makeTrunc(ts: number, minInt: number, maxInt: number, mode: TruncMode): TruncFn {
  const fwd = (v: tf.Tensor, s: tf.Tensor): { y: tf.Tensor; q: tf.Tensor; inside: tf.Tensor } => {
    const y = tf.div(v, s);
    const acc = tf.round(y);
    const t = tf.div(acc, ts);
    const r = mode === 'round' ? tf.round(t) : tf.floor(t);
    const inside = tf.logicalAnd(tf.greaterEqual(r, minInt), tf.lessEqual(r, maxInt));
    return { y, q: tf.clipByValue(r, minInt, maxInt), inside };
  };
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const v = args[0] as tf.Tensor;
    const s = args[1] as tf.Tensor;
    const save = args[2] as tf.GradSaveFunc;
    const { q } = fwd(v, s);
    save([v, s]);
    return {
      value: tf.mul(q, tf.mul(s, ts)),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const g = dy as tf.Tensor;
        const [vv, ss] = saved as [tf.Tensor, tf.Tensor];
        const { y, q: qq, inside } = fwd(vv, ss);
        const qts = tf.mul(qq, ts);
        const dv = tf.where(inside, g, tf.zerosLike(g));
        const ds = tf.sum(tf.mul(g, tf.where(inside, tf.sub(qts, y), qts)));
        return [dv, tf.reshape(ds, ss.shape)];
      },
    };
  });
  return f as TruncFn;
}

/**
 * The truncation as composed tfjs ops with a custom gradient (the fallback off wasm/cpu, and the reference the fused
 * QatTruncQuant kernel matches bit for bit): q = clamp(round-or-floor(round(v/s) / ts)), out = q * s * ts.
 */
export function truncateComposed(v: tf.Tensor, s: tf.Tensor, ts: number, minInt: number, maxInt: number, mode: TruncMode): tf.Tensor {
  const key = `${ts}|${minInt}|${maxInt}|${mode}`;
  let f = truncCache.get(key);
  if (f === undefined) {
    f = makeTrunc(ts, minInt, maxInt, mode);
    truncCache.set(key, f);
  }
  return f(v, s);
}

/** Average pooling with Brevitas' truncation to `bitWidth` bits; needs a quantized input. */
export class QuantAvgPool2D extends tf.layers.Layer implements QuantOutputProvider {
  static className = 'QuantAvgPool2D';
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly truncMode: TruncMode;
  readonly bitWidth: number;
  private lastScale: tf.Tensor | null = null;

  constructor(args: QuantAvgPool2DArgs) {
    super(args);
    const pair = (v: number | [number, number], what: string): [number, number] => {
      const p: [number, number] = typeof v === 'number' ? [v, v] : v;
      if (!Array.isArray(p) || p.length !== 2 || !p.every((d) => Number.isInteger(d) && d >= 1)) {
        throw new ConfigError(`QuantAvgPool2D: ${what} must be a positive integer or a pair, got ${JSON.stringify(v)}`);
      }
      return p;
    };
    this.poolSize = pair(args.poolSize, 'poolSize');
    this.strides = pair(args.strides ?? this.poolSize, 'strides');
    this.truncMode = normalizeEnum(args.truncMode ?? 'round', ['round', 'floor'] as const, 'QuantAvgPool2D.truncMode');
    this.bitWidth = args.bitWidth ?? 8;
    validateBitWidth(this.bitWidth, 'QuantAvgPool2D.bitWidth');
  }

  private inputGrid(): { bitWidth: number; signed: boolean } {
    const p = upstreamProvider(this);
    if (p === null) {
      throw new ConfigError(`${this.name}: QuantAvgPool2D needs a quantized input (Brevitas' TruncAvgPool2d needs a QuantTensor); ` +
        `put a QuantIdentity or QuantReLU right before it, or use tf.layers.averagePooling2d followed by a QuantIdentity`);
    }
    return p.outputGrid();
  }

  /** bwAvg = ceil(log2((2^inBw - 1) * kh*kw)) and the truncation factor ts = 2^(bwAvg - outBits). */
  truncation(inputBitWidth: number): { accBitWidth: number; ts: number; k: number } {
    const k = this.poolSize[0] * this.poolSize[1];
    const accBitWidth = Math.ceil(Math.log2((2 ** inputBitWidth - 1) * k));
    return { accBitWidth, ts: 2 ** (accBitWidth - this.bitWidth), k };
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    void kwargs;
    return tf.tidy(() => {
      const x = singleTensor(inputs, this.name) as tf.Tensor4D;
      const grid = this.inputGrid();
      const p = upstreamProvider(this);
      const sIn = p?.lastOutputScale();
      if (sIn === null || sIn === undefined) throw new ConfigError(`${this.name}: the quantized input's scale is unknown; run the model end to end (model.predict / model.apply), not this layer alone`);
      const { ts, k } = this.truncation(grid.bitWidth);
      const { minInt, maxInt } = intRange({ bitWidth: this.bitWidth, signed: grid.signed, narrowRange: false });
      const v = tf.avgPool(x, this.poolSize, this.strides, 'valid');
      if (truncKernelActive() && truncKernelSupports(v, sIn)) {
        // sAvg = sIn / k and the output scale sAvg * ts, folded into the truncation kernel
        const [out, sOut] = avgTruncQuantKernel(v, sIn, { ts, minInt, maxInt, floor: this.truncMode === 'floor', k });
        this.lastScale = replaceKept(this.lastScale, sOut);
        return out;
      }
      const sAvg = tf.div(tf.reshape(sIn, []), k);
      this.lastScale = replaceKept(this.lastScale, tf.mul(sAvg, ts));
      return truncateComposed(v, sAvg, ts, minInt, maxInt, this.truncMode);
    });
  }

  outputQuantMeta(): QuantMeta {
    const p = upstreamProvider(this);
    if (p === null) this.inputGrid();
    const inMeta = (p as QuantOutputProvider).outputQuantMeta();
    const sIn = typeof inMeta.scale === 'number' ? inMeta.scale : (inMeta.scale[0] ?? NaN);
    const { ts, k } = this.truncation(inMeta.bitWidth);
    return { scale: Math.fround(Math.fround(sIn / k) * ts), zeroPoint: 0, bitWidth: this.bitWidth, signed: inMeta.signed, narrowRange: false };
  }

  outputGrid(): { bitWidth: number; signed: boolean; narrowRange: boolean } {
    return { bitWidth: this.bitWidth, signed: this.inputGrid().signed, narrowRange: false };
  }

  lastOutputScale(): tf.Tensor | null {
    return this.lastScale !== null && !this.lastScale.isDisposed ? this.lastScale : null;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = singleShape(inputShape);
    const out = (n: number | null | undefined, kk: number, st: number): number | null => (n === null || n === undefined ? null : Math.floor((n - kk) / st) + 1);
    return [s[0] ?? null, out(s[1], this.poolSize[0], this.strides[0]), out(s[2], this.poolSize[1], this.strides[1]), s[3] ?? null];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), poolSize: this.poolSize, strides: this.strides, truncMode: this.truncMode, bitWidth: this.bitWidth };
  }

  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    if (this.lastScale !== null && !this.lastScale.isDisposed) this.lastScale.dispose();
    this.lastScale = null;
    return super.dispose();
  }
}
tf.serialization.registerClass(QuantAvgPool2D);

/** Factory: `quantAvgPool2D({poolSize: 2})`. */
export function quantAvgPool2D(args: QuantAvgPool2DArgs): QuantAvgPool2D {
  return new QuantAvgPool2D(args);
}
