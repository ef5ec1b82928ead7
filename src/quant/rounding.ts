/**
 * Scalar reference arithmetic in float32, in Brevitas' order (brevitas-semantics.md §3).
 * Used by tests, the exporter and the integer simulator; the layers use the tensor versions.
 */
import { intRange, type IntGrid } from './int_range.js';

const f32 = Math.fround;

/**
 * Round half to even, like `torch.round` and `numpy.rint`. (`Math.round` rounds half up: wrong here.)
 * @example roundHalfEven(2.5) // 2
 * @example roundHalfEven(-0.5) // -0 (=== 0)
 */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const r = Math.round(x);
  // Math.round rounds .5 up; fix exact ties that went to an odd integer.
  if (r - x === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}

/** Parameters of one uniform affine quantizer (scalar). */
export interface ScalarQuant extends IntGrid {
  /** Quantization step (float32). */
  readonly scale: number;
  /** Zero point (0 for every Brevitas preset used here). @default 0 */
  readonly zeroPoint?: number;
}

/** The integer a float maps to: clamp(roundHalfEven(f32(x / scale) + zp), min, max), in float32 steps. */
export function quantizeScalar(x: number, q: ScalarQuant): number {
  const { minInt, maxInt } = intRange(q);
  const zp = q.zeroPoint ?? 0;
  const y = f32(f32(f32(x) / f32(q.scale)) + zp);
  const r = roundHalfEven(y);
  return Math.min(maxInt, Math.max(minInt, r));
}

/** Fake quantization of one value: f32((q - zp) * scale). Bit-identical to Brevitas in float32. */
export function fakeQuantizeScalar(x: number, q: ScalarQuant): number {
  const zp = q.zeroPoint ?? 0;
  return f32(f32(quantizeScalar(x, q) - zp) * f32(q.scale));
}
