/**
 * The quantizer arithmetic as plain loops over float32 typed arrays (the wasm heap or cpu buffers), in Brevitas'
 * float32 order (brevitas-semantics.md §3): y = f32(x / s) [+ zp], q = clamp(round_half_even(y)), out = f32(q * s).
 * A JS double holding a float32 is exact, and one +, -, x or / on two float32 values rounded once by `Math.fround`
 * (or by storing into a Float32Array) is the float32 result bit for bit.
 *
 * Scales are per tensor (`scale.length === 1`) or per last-axis channel (`scale.length === C`, element i uses
 * channel i % C).
 */

const f32 = Math.fround;

/** Brevitas' lower bound of every statistic (scaling_min_val), as float32. */
export const MIN_STAT_F32 = Math.fround(1e-10);

/** Integer grid bounds of one quantizer, as float32 values (tfjs compares in float32). */
export interface GridBounds {
  /** Smallest integer (fround'ed). */
  readonly minF: number;
  /** Largest integer (fround'ed). */
  readonly maxF: number;
  /** Zero point (0 for every Brevitas preset used here). */
  readonly zp: number;
  /**
   * Clamp like IEEE max/min (tfjs-wasm's ClipByValue: clamping -0 at a bound 0 gives +0) instead of strict
   * comparisons (tfjs-cpu: -0 stays -0). Only the sign of a zero differs. @default false
   */
  readonly ieeeClamp?: boolean;
}

/** Clamp r to [lo, hi] with strict comparisons, or IEEE max/min (see GridBounds.ieeeClamp). */
function clampTo(r: number, lo: number, hi: number, ieee: boolean): number {
  return ieee ? Math.min(hi, Math.max(lo, r)) : r < lo ? lo : r > hi ? hi : r;
}

/**
 * Round half to even of a double (torch.round). Signs of zero: -0.3 -> -0 always; the tie -0.5 -> -0 like C's
 * nearbyint (tfjs-wasm's Round), or +0 with `cpuTies` (tfjs-cpu's Round computes ties as floor(x) + 1).
 */
export function rhe(y: number, cpuTies = false): number {
  const r = Math.round(y);
  if (r - y !== 0.5) return r;
  return r % 2 !== 0 ? r - 1 : cpuTies ? r + 0 : r;
}

/** Exact 2^ceil(log2 v) for a positive finite double (v a float32 value). */
export function pow2Ceil(v: number): number {
  let p = 2 ** Math.ceil(Math.log2(v));
  if (p / 2 >= v) p /= 2;
  else if (p < v) p *= 2;
  return p;
}

/** Forward fake quantization: out[i] = f32((q - zp) * s), or q itself when `intOut`. */
export function fakeQuantForward(x: Float32Array, scale: Float32Array, out: Float32Array, g: GridBounds, intOut: boolean): void {
  const n = x.length;
  const C = scale.length;
  const { minF, maxF, zp } = g;
  const ieee = g.ieeeClamp === true;
  if (C === 1 && zp === 0 && !ieee) {
    const s = scale[0]!;
    for (let i = 0; i < n; i++) {
      const r = rhe(f32(x[i]! / s), true);
      const q = r < minF ? minF : r > maxF ? maxF : r;
      out[i] = intOut ? q : q * s;
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const s = scale[C === 1 ? 0 : i % C]!;
    let y = f32(x[i]! / s);
    if (zp !== 0) y = f32(y + zp);
    const r = rhe(y, !ieee);
    const q = clampTo(r, minF, maxF, ieee);
    out[i] = intOut ? q : zp !== 0 ? f32(q - zp) * s : q * s;
  }
}

/**
 * Backward of fake quantization. ds[c] = sum_i dy_i * d out_i / d s with d out/d s = f32(qc - yc) inside the
 * grid (qc = q - zp, yc = y - zp) and qc where clamped ('mask'); always f32(qc - yc) for 'ste'. With `dx` (mask
 * mode), dx_i = inside ? dy_i : 0. Sums accumulate in double.
 */
export function fakeQuantBackward(
  dy: Float32Array, x: Float32Array, scale: Float32Array, ds: Float64Array, dx: Float32Array | null, g: GridBounds,
): void {
  const n = x.length;
  const C = scale.length;
  const { minF, maxF, zp } = g;
  ds.fill(0);
  if (C === 1 && zp === 0) {
    const s = scale[0]!;
    let acc = 0;
    if (dx === null) {
      for (let i = 0; i < n; i++) {
        const y = f32(x[i]! / s);
        const r = rhe(y);
        const q = r < minF ? minF : r > maxF ? maxF : r;
        acc += dy[i]! * f32(q - y);
      }
    } else {
      for (let i = 0; i < n; i++) {
        const y = f32(x[i]! / s);
        const r = rhe(y);
        const d = dy[i]!;
        if (r < minF) { dx[i] = 0; acc += d * minF; } else if (r > maxF) { dx[i] = 0; acc += d * maxF; } else { dx[i] = d; acc += d * f32(r - y); }
      }
    }
    ds[0] = acc;
    return;
  }
  for (let i = 0; i < n; i++) {
    const c = C === 1 ? 0 : i % C;
    const s = scale[c]!;
    let y = f32(x[i]! / s);
    if (zp !== 0) y = f32(y + zp);
    const r = rhe(y);
    const inside = r >= minF && r <= maxF;
    const q = clampTo(r, minF, maxF, g.ieeeClamp === true);
    const qc = zp !== 0 ? f32(q - zp) : q;
    const yc = zp !== 0 ? f32(y - zp) : y;
    const d = dy[i]!;
    if (dx === null) {
      ds[c]! += d * f32(qc - yc);
    } else if (inside) {
      dx[i] = d;
      ds[c]! += d * f32(qc - yc);
    } else {
      dx[i] = 0;
      ds[c]! += d * qc;
    }
  }
}

/** max|w| per tensor (C = 1) or per last-axis channel, into `m` (length C). Not clamped at MIN_STAT. */
export function absMax(w: Float32Array, m: Float64Array): void {
  const C = m.length;
  const n = w.length;
  m.fill(0);
  if (C === 1) {
    let mx = 0;
    for (let i = 0; i < n; i++) {
      const a = Math.abs(w[i]!);
      if (a > mx) mx = a;
    }
    m[0] = mx;
    return;
  }
  for (let i = 0; i < n; i += C) {
    for (let c = 0; c < C; c++) {
      const a = Math.abs(w[i + c]!);
      if (a > m[c]!) m[c] = a;
    }
  }
}

/** Scale from the raw abs-max: f32(max(m, 1e-10) / T), or f32(2^ceil(log2 max(m, 1e-10)) / T) for PoT. */
export function scaleFromAbsMax(mRaw: number, threshold: number, pot: boolean): number {
  const m = mRaw > MIN_STAT_F32 ? mRaw : MIN_STAT_F32;
  return f32((pot ? f32(pow2Ceil(m)) : m) / threshold);
}

/**
 * The scale-path gradient of an abs-max scale (Brevitas STATS scaling) added into `dw`:
 * dw[m] += sign(w_m) * f32(f32(ds_c * dsDm) / count_c) at every arg-max element of channel c, where dsDm is
 * f32(1/T) (float) or f32(s/m) (PoT) and nothing flows when max|w_c| <= 1e-10 (clamped statistic).
 * `mRaw` holds max|w| per channel (from `absMax`).
 */
export function addAbsMaxScaleGrad(
  w: Float32Array, dw: Float32Array, ds: ArrayLike<number>, scale: ArrayLike<number>, mRaw: Float64Array, threshold: number, pot: boolean,
): void {
  const C = mRaw.length;
  const n = w.length;
  const count = new Float64Array(C);
  for (let i = 0; i < n; i++) {
    const c = C === 1 ? 0 : i % C;
    if (Math.abs(w[i]!) === mRaw[c]!) count[c]! += 1;
  }
  const per = new Float64Array(C);
  const invT = f32(1 / threshold);
  for (let c = 0; c < C; c++) {
    const m = mRaw[c]!;
    if (!(m > MIN_STAT_F32) || count[c] === 0) continue;
    const dsDm = pot ? f32(scale[c]! / m) : invT;
    per[c] = f32(f32(f32(ds[c]!) * dsDm) / count[c]!);
  }
  for (let i = 0; i < n; i++) {
    const c = C === 1 ? 0 : i % C;
    const v = w[i]!;
    if (per[c] !== 0 && Math.abs(v) === mRaw[c]!) dw[i] = f32(dw[i]! + (v > 0 ? per[c]! : -per[c]!));
  }
}

/** Result of `selectTopAbs`: the j-th largest |x| and its flat index. */
export interface TopAbs {
  readonly value: number;
  readonly index: number;
}

/**
 * The j-th largest |x| (1-based; j = 1 is the max) in one pass, ordered by (|x| descending, index ascending) as
 * tf.topk/argMax do; for small j (a few): keeps a sorted list of j candidates.
 */
export function selectTopAbs(x: Float32Array, j: number): TopAbs {
  const n = x.length;
  if (j === 1) {
    let mx = -1;
    let idx = 0;
    for (let i = 0; i < n; i++) {
      const a = Math.abs(x[i]!);
      if (a > mx) { mx = a; idx = i; }
    }
    return { value: mx, index: idx };
  }
  const top = new TopAbsCollector(x, j);
  for (let i = 0; i < n; i++) top.visit(i);
  return top.result();
}

/**
 * The j largest |x[i]| seen so far, as a sorted list of j candidates; an element enters only if strictly larger
 * than the current j-th, so ties keep the lower index (tf.topk's order). Visit indices in ascending order.
 */
export class TopAbsCollector {
  private readonly vals: Float64Array;
  private readonly idxs: Int32Array;
  private thr = -1;
  /** @param relu rank |max(x, 0)| (Math.max: -0 -> +0, NaN kept) instead of |x|. */
  constructor(private readonly x: Float32Array, private readonly j: number, private readonly relu = false) {
    this.vals = new Float64Array(j).fill(-1);
    this.idxs = new Int32Array(j);
  }

  visit(i: number): void {
    const a = Math.abs(this.relu ? Math.max(0, this.x[i]!) : this.x[i]!);
    if (a <= this.thr) return;
    const { vals, idxs } = this;
    let p = this.j - 1;
    while (p > 0 && vals[p - 1]! < a) {
      vals[p] = vals[p - 1]!;
      idxs[p] = idxs[p - 1]!;
      p--;
    }
    vals[p] = a;
    idxs[p] = i;
    this.thr = vals[this.j - 1]!;
  }

  result(): TopAbs {
    return { value: this.vals[this.j - 1]!, index: this.idxs[this.j - 1]! };
  }
}
