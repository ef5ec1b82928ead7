/**
 * Exact float32 thresholds. Tensor evaluation compares float32 inputs with float32 thresholds; rounding a float64
 * threshold to the nearest float32 can flip a comparison. For a float32 `x`:
 * `x <= t` iff `x <= floorF32(t)` and `x < t` iff `x < ceilF32(t)`, so these directed roundings keep every
 * comparison exact.
 */
import type { SplitRule } from '../tree_ir.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Next float32 toward +Infinity (`up`) or -Infinity from a finite float32 value `v`. */
function stepF32(v: number, up: boolean): number {
  f32[0] = v;
  if (v === 0) {
    u32[0] = 1;
    return up ? (f32[0] as number) : -(f32[0] as number);
  }
  const bits = u32[0] as number;
  u32[0] = (v > 0) === up ? bits + 1 : bits - 1;
  return f32[0] as number;
}

/** Largest float32 `<= t`. */
export function floorF32(t: number): number {
  const r = Math.fround(t);
  return r <= t ? r : stepF32(r, false);
}

/** Smallest float32 `>= t`. */
export function ceilF32(t: number): number {
  const r = Math.fround(t);
  return r >= t ? r : stepF32(r, true);
}

/** Shortest decimal (≤ 9 significant digits) whose float32 rounding is the float32 value `c`. */
export function shortestDecimalOfF32(c: number): number {
  for (let p = 1; p <= 9; p++) {
    const d = Number(c.toPrecision(p));
    if (Math.fround(d) === c) return d;
  }
  return c;
}

/**
 * Threshold to use in float32.
 * - `compareDtype: 'float32'` (XGBoost, scikit-learn: the library itself rounds inputs to float32): directed rounding,
 *   exact for every input.
 * - `compareDtype: 'float64'` (ml-cart compares float64 inputs): all float64 inputs in the float32 rounding bucket of
 *   the threshold must go one way. They go the way the bucket's shortest decimal goes under the float64 rule, so the
 *   result is exact for inputs with at most 7 significant digits (CSV data), e.g. a threshold
 *   1.7000000000000002 = (1.6 + 1.8) / 2 sends 1.7 left, as ml-cart does.
 */
export function exactF32Threshold(t: number, rule: SplitRule, compareDtype: 'float32' | 'float64' = 'float32'): number {
  if (compareDtype === 'float32') return rule === '<=' ? floorF32(t) : ceilF32(t);
  const c = Math.fround(t);
  if (!Number.isFinite(c)) return c;
  const d = shortestDecimalOfF32(c);
  const bucketLeft = rule === '<' ? d < t : d <= t;
  if (rule === '<') return bucketLeft ? stepF32(c, true) : c;
  return bucketLeft ? c : stepF32(c, false);
}
