/**
 * Integer kernels of the circuit simulator (and of the exporter's calibration): plain loops over Int32Array
 * batches, no tfjs. Every value is an exact integer; `parseCircuit` guarantees that no intermediate value can
 * leave the int32 range, so `+=` on Int32Array is exact.
 */
import { roundHalfEven } from '../quant/rounding.js';
import type { InputQuantJson, TluRounding } from './circuit_schema.js';

/** Inclusive integer range of the input quantizer. */
export function inputIntRange(q: InputQuantJson): { minInt: number; maxInt: number } {
  const b = q.bitWidth;
  if (q.signed) return { minInt: q.narrowRange ? -(2 ** (b - 1)) + 1 : -(2 ** (b - 1)), maxInt: 2 ** (b - 1) - 1 };
  return { minInt: 0, maxInt: q.narrowRange ? 2 ** b - 2 : 2 ** b - 1 };
}

/**
 * The input quantizer, in the clear and in float32 steps (Brevitas' order):
 * q = clamp(roundHalfEven(f32(f32(x) / scale) + zp), min, max).
 */
export function quantizeInput(x: ArrayLike<number>, q: InputQuantJson, out: Int32Array = new Int32Array(x.length)): Int32Array {
  const { minInt, maxInt } = inputIntRange(q);
  const s = Math.fround(q.scale);
  const zp = q.zeroPoint;
  const f32 = Math.fround;
  for (let i = 0; i < x.length; i++) {
    let y = f32(f32(x[i] ?? 0) / s);
    if (zp !== 0) y = f32(y + zp);
    const r = roundHalfEven(y);
    out[i] = r < minInt ? minInt : r > maxInt ? maxInt : r;
  }
  return out;
}

/** The same result as quantizeInput for typed arrays, with roundHalfEven inlined. */
export function quantizeInputFast(x: Float32Array | Float64Array, q: InputQuantJson, out: Int32Array = new Int32Array(x.length)): Int32Array {
  const { minInt, maxInt } = inputIntRange(q);
  const s = Math.fround(q.scale);
  const zp = q.zeroPoint;
  const f32 = Math.fround;
  for (let i = 0; i < x.length; i++) {
    let y = f32(f32(x[i] as number) / s);
    if (zp !== 0) y = f32(y + zp);
    let r = Math.round(y);
    if (r - y === 0.5 && r % 2 !== 0) r -= 1;
    out[i] = r < minInt ? minInt : r > maxInt ? maxInt : r;
  }
  return out;
}

/** acc[s, o] = bias[o] + sum_k x[s, k] * w[k, o]; zero inputs are skipped. */
export function gemmInt(x: Int32Array, n: number, inF: number, w: Int32Array, outF: number, bias: Int32Array | null): Int32Array {
  const out = new Int32Array(n * outF);
  for (let s = 0; s < n; s++) {
    const ob = s * outF;
    if (bias !== null) out.set(bias, ob);
    const xb = s * inF;
    for (let k = 0; k < inF; k++) {
      const xv = x[xb + k] as number;
      if (xv === 0) continue;
      const wb = k * outF;
      for (let o = 0; o < outF; o++) out[ob + o] = (out[ob + o] as number) + xv * (w[wb + o] as number);
    }
  }
  return out;
}

/** NHWC integer convolution with zero padding [top, bottom, left, right]. */
export function conv2dInt(
  x: Int32Array, n: number, inShape: readonly [number, number, number], w: Int32Array, kernel: readonly [number, number, number, number],
  strides: readonly [number, number], padding: readonly [number, number, number, number], bias: Int32Array | null,
): { values: Int32Array; shape: [number, number, number] } {
  const [h, wd, cin] = inShape;
  const [kh, kw, , cout] = kernel;
  const [sh, sw] = strides;
  const oh = Math.floor((h + padding[0] + padding[1] - kh) / sh) + 1;
  const ow = Math.floor((wd + padding[2] + padding[3] - kw) / sw) + 1;
  const out = new Int32Array(n * oh * ow * cout);
  for (let s = 0; s < n; s++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const ob = ((s * oh + oy) * ow + ox) * cout;
        if (bias !== null) out.set(bias, ob);
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - padding[0] + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - padding[2] + kx;
            if (ix < 0 || ix >= wd) continue;
            const xb = ((s * h + iy) * wd + ix) * cin;
            const wb = (ky * kw + kx) * cin * cout;
            for (let ci = 0; ci < cin; ci++) {
              const xv = x[xb + ci] as number;
              if (xv === 0) continue;
              const wr = wb + ci * cout;
              for (let co = 0; co < cout; co++) out[ob + co] = (out[ob + co] as number) + xv * (w[wr + co] as number);
            }
          }
        }
      }
    }
  }
  return { values: out, shape: [oh, ow, cout] };
}

/** NHWC integer sum pooling (valid padding). */
export function sumPoolInt(
  x: Int32Array, n: number, inShape: readonly [number, number, number], poolSize: readonly [number, number], strides: readonly [number, number],
): { values: Int32Array; shape: [number, number, number] } {
  const [h, wd, c] = inShape;
  const [ph, pw] = poolSize;
  const oh = Math.floor((h - ph) / strides[0]) + 1;
  const ow = Math.floor((wd - pw) / strides[1]) + 1;
  const out = new Int32Array(n * oh * ow * c);
  for (let s = 0; s < n; s++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const ob = ((s * oh + oy) * ow + ox) * c;
        for (let ky = 0; ky < ph; ky++) {
          for (let kx = 0; kx < pw; kx++) {
            const xb = ((s * h + oy * strides[0] + ky) * wd + ox * strides[1] + kx) * c;
            for (let ci = 0; ci < c; ci++) out[ob + ci] = (out[ob + ci] as number) + (x[xb + ci] as number);
          }
        }
      }
    }
  }
  return { values: out, shape: [oh, ow, c] };
}

/** Element-wise sum. */
export function addInt(a: Int32Array, b: Int32Array): Int32Array {
  const out = new Int32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) + (b[i] as number);
  return out;
}

/**
 * Round x / 2^shift to an integer: ties to even ('halfEven', exact rescale by a power of two) or up
 * ('halfUp', Concrete's round_bit_pattern).
 */
export function roundShift(x: number, shift: number, rounding: TluRounding): number {
  if (shift === 0) return x;
  const d = 2 ** shift;
  const half = d / 2;
  const fl = Math.floor(x / d);
  const rem = x - fl * d;
  if (rem > half) return fl + 1;
  if (rem < half) return fl;
  return rounding === 'halfUp' ? fl + 1 : (fl % 2 === 0 ? fl : fl + 1);
}

/** Parameters of a table lookup. */
export interface TluParams {
  readonly shift: number;
  readonly rounding: TluRounding;
  readonly inMin: number;
  readonly inMax: number;
  readonly tables: Int32Array;
  readonly nTables: number;
}

/**
 * Table lookup over a batch: element e of a sample uses table e % nTables. Inputs outside [inMin, inMax] (after
 * rounding) are clamped to it; the number of clamped values is returned.
 */
export function tluInt(x: Int32Array, sampleSize: number, t: TluParams): { values: Int32Array; clamped: number } {
  const out = new Int32Array(x.length);
  const len = t.inMax - t.inMin + 1;
  const { inMin, inMax, tables, nTables, shift, rounding } = t;
  let clamped = 0;
  let c = 0;
  let e = 0;
  for (let i = 0; i < x.length; i++) {
    let r = shift === 0 ? (x[i] as number) : roundShift(x[i] as number, shift, rounding);
    if (r < inMin) { r = inMin; clamped++; } else if (r > inMax) { r = inMax; clamped++; }
    out[i] = tables[c * len + r - inMin] as number;
    c++;
    if (c === nTables) c = 0;
    e++;
    if (e === sampleSize) { e = 0; c = 0; }
  }
  return { values: out, clamped };
}

/** Integer values in the smallest typed array. */
export type IntTable = Int8Array | Int16Array | Int32Array;

/** The same integers in an Int8Array or Int16Array when they fit (smaller tables stay in cache). */
export function compactInts(x: Int32Array): IntTable {
  const { min, max } = minMax(x);
  if (min >= -128 && max <= 127) return Int8Array.from(x);
  if (min >= -32768 && max <= 32767) return Int16Array.from(x);
  return x;
}

/**
 * The same result as tluInt, faster: for int32 x, floor(x / 2^shift) is x >> shift and the remainder
 * x & (2^shift - 1), so the rounding needs no division; with one table per channel the loop runs channel by
 * channel over the samples of the batch, so one table row stays in cache instead of every row being touched
 * per sample.
 */
export function tluFast(x: Int32Array, sampleSize: number, t: TluParams, tables: IntTable = t.tables): { values: Int32Array; clamped: number } {
  const out = new Int32Array(x.length);
  const len = t.inMax - t.inMin + 1;
  const { inMin, inMax, nTables, shift } = t;
  const halfUp = t.rounding === 'halfUp';
  const mask = shift === 0 ? 0 : (1 << shift) - 1;
  const half = shift === 0 ? 0 : 1 << (shift - 1);
  const n = x.length / sampleSize;
  let clamped = 0;
  const lanes = nTables === 1 ? 1 : sampleSize;
  const stride = nTables === 1 ? 1 : sampleSize;
  const count = nTables === 1 ? x.length : n;
  for (let e = 0; e < lanes; e++) {
    const base = (e % nTables) * len - inMin;
    for (let j = 0, i = e; j < count; j++, i += stride) {
      let r = x[i] as number;
      if (shift !== 0) {
        const rem = r & mask;
        r >>= shift;
        if (rem > half || (rem === half && (halfUp || (r & 1) !== 0))) r++;
      }
      if (r < inMin) { r = inMin; clamped++; } else if (r > inMax) { r = inMax; clamped++; }
      out[i] = tables[base + r] as number;
    }
  }
  return { values: out, clamped };
}

/** Min and max of an integer array (0, 0 when empty). */
export function minMax(x: Int32Array): { min: number; max: number } {
  if (x.length === 0) return { min: 0, max: 0 };
  let lo = x[0] as number;
  let hi = lo;
  for (let i = 1; i < x.length; i++) {
    const v = x[i] as number;
    if (v < lo) lo = v;
    else if (v > hi) hi = v;
  }
  return { min: lo, max: hi };
}

const transposed = new WeakMap<Int32Array, Float64Array>();

/** W [inF, outF] as a Float64Array [outF, inF] (cached per weight array). */
function transposedWeights(w: Int32Array, inF: number, outF: number): Float64Array {
  let t = transposed.get(w);
  if (t === undefined) {
    t = new Float64Array(inF * outF);
    for (let k = 0; k < inF; k++) for (let o = 0; o < outF; o++) t[o * inF + k] = w[k * outF + o] as number;
    transposed.set(w, t);
  }
  return t;
}

/**
 * out[s, o] = bias[o] + sum_k xf[s, k] * wT[o, k] for n samples, four samples per pass over a weight row with
 * register accumulators. Exact whenever every partial sum is an integer below 2^53.
 */
function blockedDot(xf: Float64Array, n: number, inF: number, wT: Float64Array, outF: number,
  bias: ArrayLike<number> | null, out: { [i: number]: number }): void {
  let s = 0;
  for (; s + 4 <= n; s += 4) {
    const x0 = s * inF;
    const x1 = x0 + inF;
    const x2 = x1 + inF;
    const x3 = x2 + inF;
    for (let o = 0; o < outF; o++) {
      const wb = o * inF;
      const b = bias === null ? 0 : (bias[o] as number);
      let a0 = b;
      let a1 = b;
      let a2 = b;
      let a3 = b;
      for (let k = 0; k < inF; k++) {
        const wv = wT[wb + k] as number;
        a0 += (xf[x0 + k] as number) * wv;
        a1 += (xf[x1 + k] as number) * wv;
        a2 += (xf[x2 + k] as number) * wv;
        a3 += (xf[x3 + k] as number) * wv;
      }
      out[s * outF + o] = a0;
      out[(s + 1) * outF + o] = a1;
      out[(s + 2) * outF + o] = a2;
      out[(s + 3) * outF + o] = a3;
    }
  }
  for (; s < n; s++) {
    const xb = s * inF;
    for (let o = 0; o < outF; o++) {
      let a = bias === null ? 0 : (bias[o] as number);
      const wb = o * inF;
      for (let k = 0; k < inF; k++) a += (xf[xb + k] as number) * (wT[wb + k] as number);
      out[s * outF + o] = a;
    }
  }
}

/**
 * The same result as gemmInt, faster for dense inputs: dot products against transposed float64 weights, four
 * samples at a time with register accumulators (exact: every partial sum is an integer below 2^31).
 */
export function gemmDense(x: Int32Array, n: number, inF: number, w: Int32Array, outF: number, bias: Int32Array | null): Int32Array {
  const wT = transposedWeights(w, inF, outF);
  const out = new Int32Array(n * outF);
  blockedDot(Float64Array.from(x), n, inF, wT, outF, bias, out);
  return out;
}

/** Share of zeros in x (sampled), to pick the sparse or the dense gemm. */
export function zeroShare(x: Int32Array): number {
  const step = Math.max(1, Math.floor(x.length / 4096));
  let z = 0;
  let c = 0;
  for (let i = 0; i < x.length; i += step) { c++; if (x[i] === 0) z++; }
  return c === 0 ? 0 : z / c;
}

/**
 * Integer gemm weights packed `lanes` outputs per float64: lane j of a group holds w[k, g·lanes + j]·2^(bits·j).
 * With every accumulator (and so every partial sum) of magnitude below 2^(bits-1), a packed sum is an integer
 * below 2^(bits·lanes) <= 2^53, exact in float64, and each lane is recovered as a centered remainder.
 */
export interface PackedGemm {
  readonly lanes: number;
  readonly bits: number;
  readonly inF: number;
  readonly outF: number;
  readonly groups: number;
  /** [groups, inF], for dense inputs. */
  readonly wT: Float64Array;
  /** [inF, groups], for sparse inputs. */
  readonly wR: Float64Array;
  /** [groups] packed biases (zeros without bias). */
  readonly bias: Float64Array;
}

/** Pack a gemm whose accumulators stay within ±bound; null when fewer than 2 lanes fit in 53 bits. */
export function packGemm(w: Int32Array, inF: number, outF: number, bias: Int32Array | null, bound: number): PackedGemm | null {
  const bits = Math.ceil(Math.log2(bound + 1)) + 1;
  const lanes = Math.min(outF, Math.floor(53 / bits));
  if (lanes < 2) return null;
  const groups = Math.ceil(outF / lanes);
  const wT = new Float64Array(groups * inF);
  const wR = new Float64Array(inF * groups);
  const b = new Float64Array(groups);
  for (let o = 0; o < outF; o++) {
    const g = Math.floor(o / lanes);
    const f = 2 ** (bits * (o - g * lanes));
    if (bias !== null) b[g] = (b[g] as number) + (bias[o] as number) * f;
    for (let k = 0; k < inF; k++) {
      const v = (w[k * outF + o] as number) * f;
      wT[g * inF + k] = (wT[g * inF + k] as number) + v;
      wR[k * groups + g] = (wR[k * groups + g] as number) + v;
    }
  }
  return { lanes, bits, inF, outF, groups, wT, wR, bias: b };
}

/** Split packed sums acc[s, g] into out[s, o]. */
function unpack(acc: Float64Array, n: number, p: PackedGemm): Int32Array {
  const { lanes, groups, outF } = p;
  const out = new Int32Array(n * outF);
  const d = 2 ** p.bits;
  const inv = 1 / d;
  for (let s = 0; s < n; s++) {
    for (let g = 0; g < groups; g++) {
      let v = acc[s * groups + g] as number;
      const o0 = s * outF + g * lanes;
      const nl = Math.min(lanes, outF - g * lanes);
      for (let j = 0; j < nl - 1; j++) {
        const q = Math.round(v * inv);
        out[o0 + j] = v - q * d;
        v = q;
      }
      out[o0 + nl - 1] = v;
    }
  }
  return out;
}

/**
 * The same result as gemmInt with `lanes` outputs per multiply-add (see PackedGemm): four samples at a time against
 * the transposed packed weights for dense inputs, row by row skipping zeros for sparse ones.
 */
export function gemmPacked(x: Int32Array, n: number, p: PackedGemm, sparse: boolean): Int32Array {
  const { inF, groups, wT, wR, bias } = p;
  const acc = new Float64Array(n * groups);
  if (sparse) {
    for (let s = 0; s < n; s++) {
      const ob = s * groups;
      acc.set(bias, ob);
      const xb = s * inF;
      for (let k = 0; k < inF; k++) {
        const xv = x[xb + k] as number;
        if (xv === 0) continue;
        const wb = k * groups;
        for (let g = 0; g < groups; g++) acc[ob + g] = (acc[ob + g] as number) + xv * (wR[wb + g] as number);
      }
    }
    return unpack(acc, n, p);
  }
  blockedDot(Float64Array.from(x), n, inF, wT, groups, bias, acc);
  return unpack(acc, n, p);
}
