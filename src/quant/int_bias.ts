/**
 * Brevitas' Int32Bias as integers: the bias quantized with scale f32(sIn * sW[c]) on the int32 grid, exactly as
 * the fake quantizer computes it (shared by the exporter and the layers' integer-exact inference).
 */
import { roundHalfEven } from './rounding.js';

/** Integer bias for Int32Bias: clamp(roundHalfEven(f32(b / f32(sIn * sW[c]))), int32), as the fake quantizer. */
export function int32Bias(bias: Float32Array, sIn: number, wScale: Float32Array): Int32Array {
  const out = new Int32Array(bias.length);
  for (let c = 0; c < bias.length; c++) {
    const sb = Math.fround(sIn * (wScale[wScale.length === 1 ? 0 : c] as number));
    const q = roundHalfEven(Math.fround((bias[c] as number) / sb));
    out[c] = Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, q));
  }
  return out;
}

/** The accumulator's float scale per output channel: f32(sIn * sW[c]) (the circuit dequantizes with it). */
export function accumulatorScale(sIn: number, wScale: Float32Array): number[] {
  return Array.from(wScale, (s) => Math.fround(sIn * s));
}
