/** Shared by the gemm and conv2d converters: integer bias, exact worst-case accumulator range, report fields. */
import { accumulatorScale, int32Bias } from '../../quant/int_bias.js';
import type { QuantWeightLayer, IntWeights } from '../../layers/quant_weight_layer.js';

/** Exact worst-case accumulator range over channels for inputs in [inMin, inMax] (weights [..., C] row-major). */
export function worstCaseRange(w: Int32Array, channels: number, bias: Int32Array | null, inMin: number, inMax: number): { min: number; max: number } {
  const lo = new Float64Array(channels);
  const hi = new Float64Array(channels);
  if (bias !== null) for (let c = 0; c < channels; c++) { lo[c] = bias[c] as number; hi[c] = bias[c] as number; }
  for (let i = 0; i < w.length; i++) {
    const v = w[i] as number;
    if (v === 0) continue;
    const c = i % channels;
    const a = v * inMin;
    const b2 = v * inMax;
    lo[c] = (lo[c] as number) + Math.min(a, b2);
    hi[c] = (hi[c] as number) + Math.max(a, b2);
  }
  let mn = Infinity;
  let mx = -Infinity;
  for (let c = 0; c < channels; c++) { mn = Math.min(mn, lo[c] as number); mx = Math.max(mx, hi[c] as number); }
  return { min: mn, max: mx };
}

/** Accumulator float map and integer bias of a weight layer given its input scale. */
export function accumulatorMap(layer: QuantWeightLayer, iw: IntWeights, sIn: number, channels: number):
  { scale: number[]; floatBias: Float32Array | null; intBias: Int32Array | null } {
  const scale = accumulatorScale(sIn, iw.scale);
  const b = layer.getFloatBias();
  if (b === null) return { scale, floatBias: null, intBias: null };
  if (layer.biasQuantMode === 'int32') return { scale, floatBias: null, intBias: int32Bias(b, sIn, iw.scale) };
  void channels;
  return { scale, floatBias: b, intBias: null };
}
