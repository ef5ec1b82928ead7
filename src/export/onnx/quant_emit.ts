/**
 * How each quantized tensor is written, in the two dialects:
 * - QCDQ (Brevitas `export_onnx_qcdq`): QuantizeLinear -> Clip (widths < 8 or narrow range) -> DequantizeLinear
 *   for activations; int8 (int32 above 8 bits, and Int32 biases) initializers -> DequantizeLinear for weights.
 *   Opset 14 has no 16-bit QuantizeLinear, so activations wider than 8 bits use Div -> Round -> Clip -> Mul.
 * - QONNX (Brevitas `export_qonnx`): one `Quant(x, scale, zero_point, bit_width)` node per quantized tensor
 *   (attributes signed, narrow, rounding_mode), float weights as initializers.
 */
import { intRange, bitsForRange } from '../../quant/int_range.js';
import { DT } from './proto.js';
import type { GraphBuilder } from './graph.js';
import type { QonnxAvgPoolMode, QonnxDomain } from './options.js';

/** A per-tensor activation grid (zero point 0). */
export interface ActQuantSpec {
  readonly scale: number;
  readonly bitWidth: number;
  readonly signed: boolean;
  readonly narrowRange: boolean;
}

/** A weight tensor in ONNX layout (output channels on axis 0). */
export interface WeightSpec {
  /** Base name of the initializer. */
  readonly base: string;
  /** Integers (model's quantizer output), ONNX layout. */
  readonly ints: Int32Array;
  /** Float weights the quantizer sees (after the pruning mask), ONNX layout. */
  readonly floats: Float32Array;
  readonly dims: readonly number[];
  /** One scale, or one per output channel (axis 0). */
  readonly scale: Float32Array;
  readonly bitWidth: number;
  readonly narrowRange: boolean;
}

/** An Int32Bias: integers and floats of shape [out], scale = input scale x weight scale (one or per channel). */
export interface BiasSpec {
  readonly base: string;
  readonly ints: Int32Array;
  readonly floats: Float32Array;
  readonly scale: Float32Array;
}

/** Brevitas TruncAvgPool2d parameters of one layer. */
export interface TruncSpec {
  /** Input scale / k (the scale of the sum's grid as an average). */
  readonly sAvg: number;
  /** 2^(accBitWidth - outBitWidth). */
  readonly ts: number;
  /** f32(sAvg * ts). */
  readonly outScale: number;
  readonly accBitWidth: number;
  readonly outBitWidth: number;
  /** Input bit width and kernel size (the exact range of the integer sum). */
  readonly inBitWidth: number;
  readonly k: number;
  readonly signed: boolean;
  readonly inNarrow: boolean;
  readonly mode: 'round' | 'floor';
}

/** Writes quantized tensors in one dialect; every method returns the name of the (float) result. */
export interface QuantEmitter {
  act(g: GraphBuilder, x: string, q: ActQuantSpec, base: string): string;
  weight(g: GraphBuilder, w: WeightSpec): string;
  int32Bias(g: GraphBuilder, b: BiasSpec): string;
  truncAvg(g: GraphBuilder, pooled: string, t: TruncSpec, base: string): string;
}

function truncFloat(g: GraphBuilder, pooled: string, t: TruncSpec, base: string): string {
  const { minInt, maxInt } = intRange({ bitWidth: t.outBitWidth, signed: t.signed, narrowRange: false });
  const acc = g.node('Round', [g.node('Div', [pooled, g.floatScalar('s_avg', t.sAvg)], `${base}_div`)], `${base}_acc`);
  const shifted = g.node('Div', [acc, g.floatScalar('ts', t.ts)], `${base}_shift`);
  const r = g.node(t.mode === 'round' ? 'Round' : 'Floor', [shifted], `${base}_int`);
  const q = g.node('Clip', [r, g.floatScalar('qmin', minInt), g.floatScalar('qmax', maxInt)], `${base}_clip`);
  return g.node('Mul', [q, g.floatScalar('scale', t.outScale)], `${base}_out`);
}

/** The QCDQ dialect. */
export const qcdqEmitter: QuantEmitter = {
  act(g, x, q, base) {
    const { minInt, maxInt } = intRange(q);
    const s = g.floatScalar('scale', q.scale);
    if (q.bitWidth > 8) {
      const y = g.node('Div', [x, s], `${base}_div`);
      const r = g.node('Round', [y], `${base}_round`);
      const c = g.node('Clip', [r, g.floatScalar('qmin', minInt), g.floatScalar('qmax', maxInt)], `${base}_int`);
      return g.node('Mul', [c, s], `${base}_dq`);
    }
    const dt = q.signed ? DT.INT8 : DT.UINT8;
    const zp = g.scalar(q.signed ? 'zp_i8' : 'zp_u8', dt, 0);
    let qi = g.node('QuantizeLinear', [x, s, zp], `${base}_q`);
    const full = q.signed ? minInt === -128 && maxInt === 127 : minInt === 0 && maxInt === 255;
    if (!full) qi = g.node('Clip', [qi, g.scalar('qmin', dt, minInt), g.scalar('qmax', dt, maxInt)], `${base}_clip`);
    return g.node('DequantizeLinear', [qi, s, zp], `${base}_dq`);
  },
  weight(g, w) {
    const dt = w.bitWidth <= 8 ? DT.INT8 : DT.INT32;
    const wi = g.initializer(`${w.base}_int`, dt, w.dims, w.ints);
    if (w.scale.length === 1) {
      return g.node('DequantizeLinear', [wi, g.floatScalar('w_scale', w.scale[0] ?? NaN), g.scalar('zp', dt, 0)], `${w.base}_dq`);
    }
    const c = w.scale.length;
    const s = g.initializer(`${w.base}_scale`, DT.FLOAT, [c], w.scale);
    const zp = g.initializer(`${w.base}_zp`, dt, [c], new Int32Array(c));
    return g.node('DequantizeLinear', [wi, s, zp], `${w.base}_dq`, { axis: 0 });
  },
  int32Bias(g, b) {
    const bi = g.initializer(`${b.base}_int`, DT.INT32, [b.ints.length], b.ints);
    if (b.scale.length === 1) {
      return g.node('DequantizeLinear', [bi, g.floatScalar('b_scale', b.scale[0] ?? NaN), g.scalar('zp', DT.INT32, 0)], `${b.base}_dq`);
    }
    const c = b.scale.length;
    const s = g.initializer(`${b.base}_scale`, DT.FLOAT, [c], b.scale);
    const zp = g.initializer(`${b.base}_zp`, DT.INT32, [c], new Int32Array(c));
    return g.node('DequantizeLinear', [bi, s, zp], `${b.base}_dq`, { axis: 0 });
  },
  truncAvg(g, pooled, t, base) {
    return truncFloat(g, pooled, t, base);
  },
};

/** The exact range of the integer sum of k inputs of `bw` bits, as a bit width (the accumulator Quant's grid). */
export function sumBitWidth(t: TruncSpec): number {
  const r = intRange({ bitWidth: t.inBitWidth, signed: t.signed, narrowRange: t.inNarrow });
  return bitsForRange(r.minInt * t.k, r.maxInt * t.k);
}

/** The QONNX dialect. */
export function qonnxEmitter(domain: QonnxDomain, avgPool: QonnxAvgPoolMode): QuantEmitter {
  const quant = (g: GraphBuilder, x: string, scale: string, bw: number, signed: boolean, narrow: boolean, base: string, rounding = 'ROUND'): string =>
    g.node('Quant', [x, scale, g.floatScalar('zero_point', 0), g.floatScalar('bit_width', bw)], base,
      { signed: signed ? 1 : 0, narrow: narrow ? 1 : 0, rounding_mode: rounding }, domain);
  const scaleInit = (g: GraphBuilder, base: string, scale: Float32Array, rank: number): string => {
    if (scale.length === 1) return g.floatScalar('scale', scale[0] ?? NaN);
    const dims = [scale.length, ...new Array<number>(rank - 1).fill(1)];
    return g.initializer(base, DT.FLOAT, dims, scale);
  };
  return {
    act(g, x, q, base) {
      return quant(g, x, g.floatScalar('scale', q.scale), q.bitWidth, q.signed, q.narrowRange, `${base}_quant`);
    },
    weight(g, w) {
      const wf = g.initializer(w.base, DT.FLOAT, w.dims, w.floats);
      return quant(g, wf, scaleInit(g, `${w.base}_scale`, w.scale, w.dims.length), w.bitWidth, true, w.narrowRange, `${w.base}_quant`);
    },
    int32Bias(g, b) {
      const bf = g.initializer(b.base, DT.FLOAT, [b.floats.length], b.floats);
      return quant(g, bf, scaleInit(g, `${b.base}_scale`, b.scale, 1), 32, true, false, `${b.base}_quant`);
    },
    truncAvg(g, pooled, t, base) {
      const rounding = t.mode === 'round' ? 'ROUND' : 'FLOOR';
      if (avgPool === 'quant') {
        // Integer sum on a unit grid, then the truncation on a grid of ts (a power of two), then the scale: every
        // step is exact in float32 (Quant(acc·sAvg, sAvg·ts) would not be: acc·sAvg/(sAvg·ts) can miss acc/ts).
        const sAvg = g.floatScalar('s_avg', t.sAvg);
        const y = g.node('Div', [pooled, sAvg], `${base}_div`);
        const acc = quant(g, y, g.floatScalar('one', 1), sumBitWidth(t), t.signed, false, `${base}_acc_quant`);
        const q = quant(g, acc, g.floatScalar('ts', t.ts), t.outBitWidth, t.signed, false, `${base}_quant`, rounding);
        return g.node('Mul', [q, sAvg], `${base}_out`);
      }
      const tr = g.node('Trunc', [pooled, g.floatScalar('s_avg', t.sAvg), g.floatScalar('zero_point', 0),
        g.floatScalar('bit_width', t.accBitWidth), g.floatScalar('bit_width', t.outBitWidth)], `${base}_trunc`, { rounding_mode: rounding }, domain);
      const { minInt, maxInt } = intRange({ bitWidth: t.outBitWidth, signed: t.signed, narrowRange: false });
      const y = g.node('Mul', [tr, g.floatScalar('ts', t.ts)], `${base}_rescale`);
      return g.node('Clip', [y, g.floatScalar('qmin_f', Math.fround(minInt * t.outScale)), g.floatScalar('qmax_f', Math.fround(maxInt * t.outScale))], `${base}_out`);
    },
  };
}
