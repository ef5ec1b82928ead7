/**
 * Integer ranges and integer scalings of Brevitas v0.12.1 (`function/ops.py`, `core/scaling/int_scaling.py`).
 * Pure functions, no tensors.
 */
import { ConfigError } from '../errors.js';

/** Signedness and range of an integer grid. */
export interface IntGrid {
  /** Number of bits, 1..16 (32 for biases). */
  readonly bitWidth: number;
  /** Signed (two's complement range) or unsigned. */
  readonly signed: boolean;
  /** Narrow range drops the most negative value (signed) or the largest value (unsigned). */
  readonly narrowRange: boolean;
}

/** Inclusive integer bounds of a grid. */
export interface IntBounds {
  readonly minInt: number;
  readonly maxInt: number;
}

/** Bit widths accepted by quantizers: 1..16, and 32 for Int32 biases. */
export function validateBitWidth(bitWidth: number, what = 'bitWidth', allow32 = false): void {
  const ok = Number.isInteger(bitWidth) && ((bitWidth >= 1 && bitWidth <= 16) || (allow32 && bitWidth === 32));
  if (!ok) {
    throw new ConfigError(`${what} must be an integer in 1..16${allow32 ? ' (or 32)' : ''}, got ${String(bitWidth)}`);
  }
}

/**
 * The integer range of a grid, as Brevitas' `min_int` / `max_int`.
 * @example intRange({bitWidth: 8, signed: true, narrowRange: true}) // {minInt: -127, maxInt: 127}
 * @example intRange({bitWidth: 4, signed: false, narrowRange: false}) // {minInt: 0, maxInt: 15}
 */
export function intRange(grid: IntGrid): IntBounds {
  const b = grid.bitWidth;
  if (grid.signed) {
    const half = 2 ** (b - 1);
    return { minInt: grid.narrowRange ? -(half - 1) : -half, maxInt: half - 1 };
  }
  return { minInt: 0, maxInt: grid.narrowRange ? 2 ** b - 2 : 2 ** b - 1 };
}

/**
 * Brevitas' IntScaling "int threshold" T of a float-scaled quantizer: scale = clip / T.
 * signed: 2^(b-1) (narrow: 2^(b-1)-1); unsigned: 2^b-1 (narrow: 2^b-2).
 */
export function intThreshold(grid: IntGrid): number {
  const b = grid.bitWidth;
  if (grid.signed) return grid.narrowRange ? 2 ** (b - 1) - 1 : 2 ** (b - 1);
  return grid.narrowRange ? 2 ** b - 2 : 2 ** b - 1;
}

/** Brevitas' PowerOfTwoIntScaling: 2^(b-1) signed, 2^b unsigned, so a PoT threshold gives a PoT scale. */
export function potIntThreshold(grid: IntGrid): number {
  return grid.signed ? 2 ** (grid.bitWidth - 1) : 2 ** grid.bitWidth;
}

/** Bits needed to hold every integer in [lo, hi] (signed when lo < 0), Concrete ML's convention. */
export function bitsForRange(lo: number, hi: number): number {
  if (lo > hi) return 1;
  if (lo >= 0) return Math.max(1, Math.ceil(Math.log2(hi + 1)));
  // signed: need -2^(b-1) <= lo and hi <= 2^(b-1)-1
  const mag = Math.max(-lo, hi + 1);
  return Math.ceil(Math.log2(mag)) + 1;
}

/**
 * Worst-case accumulator width of a dot product, as Brevitas' `max_acc_bit_width`:
 * ceil(log2((2^inBw - 1) * (2^wBw - 1) * fanIn)).
 */
export function worstCaseAccumulatorBits(inputBitWidth: number, weightBitWidth: number, fanIn: number): number {
  if (fanIn <= 0) return 1;
  return Math.ceil(Math.log2((2 ** inputBitWidth - 1) * (2 ** weightBitWidth - 1) * fanIn));
}
