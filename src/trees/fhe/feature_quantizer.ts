/**
 * Per-feature input quantizer of Concrete ML's tree models (`op_inputs`): unsigned `nBits` integers from the
 * training min/max of each feature, applied BEFORE training so the trees learn on integers.
 * `q = clip(roundHalfEven(f32((x - min) / scale)), 0, 2^nBits - 1)`, `scale = (max - min) / (2^nBits - 1)` (1 for a
 * constant feature). This is exactly the circuit format's input quantizer (scale 1, zero point 0, unsigned `nBits`)
 * applied to the normalized features `(x - min) / scale` (see {@link FeatureQuantizer.normalize}), so a tree circuit
 * receives the same integers as the quantized model.
 */
import { ConfigError, DataError } from '../../errors.js';
import { roundHalfEven } from '../../quant/rounding.js';

/** Serialized {@link FeatureQuantizer}. */
export interface FeatureQuantizerJson {
  /** Bits of every quantized feature. */
  nBits: number;
  /** Training minimum of each feature (zero point in float units). */
  mins: number[];
  /** Step of each feature. */
  scales: number[];
}

/** Validate a row matrix: non-empty, rectangular, finite. */
export function checkRows(x: unknown, what: string, nFeatures?: number): number[][] {
  if (!Array.isArray(x) || x.length === 0) throw new DataError(`${what}: expected a non-empty number[][], received ${JSON.stringify(x)?.slice(0, 40)}.`);
  const f = nFeatures ?? (Array.isArray(x[0]) ? (x[0] as unknown[]).length : -1);
  x.forEach((r: unknown, i) => {
    if (!Array.isArray(r) || r.length !== f || !r.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new DataError(`${what}: row ${i} must hold ${f} finite numbers, received ${JSON.stringify(r)?.slice(0, 60)}.`);
    }
  });
  if (f < 1) throw new DataError(`${what}: rows must have at least one feature.`);
  return x as number[][];
}

/** Uniform per-feature quantizer (see module doc). */
export class FeatureQuantizer {
  /** Bits per feature. */
  readonly nBits: number;
  /** Training minimum per feature. */
  readonly mins: readonly number[];
  /** Step per feature. */
  readonly scales: readonly number[];

  /** Prefer {@link FeatureQuantizer.fit}. */
  constructor(json: FeatureQuantizerJson) {
    if (!Number.isInteger(json.nBits) || json.nBits < 1 || json.nBits > 16) throw new ConfigError(`nBits must be an integer in [1, 16], received ${json.nBits}.`);
    if (json.mins.length !== json.scales.length || json.scales.some((s) => !(s > 0))) throw new ConfigError('FeatureQuantizer: mins and scales must have equal length and positive scales.');
    this.nBits = json.nBits;
    this.mins = [...json.mins];
    this.scales = [...json.scales];
  }

  /**
   * Fit min/max per feature on training rows.
   * @example FeatureQuantizer.fit([[0], [6.3]], 6).quantize([[3.15]]) // [[32]]
   */
  static fit(x: number[][], nBits: number): FeatureQuantizer {
    const rows = checkRows(x, 'FeatureQuantizer.fit');
    const f = (rows[0] as number[]).length;
    const mins = new Array<number>(f).fill(Infinity);
    const maxs = new Array<number>(f).fill(-Infinity);
    for (const r of rows) r.forEach((v, j) => { if (v < (mins[j] as number)) mins[j] = v; if (v > (maxs[j] as number)) maxs[j] = v; });
    const levels = 2 ** nBits - 1;
    return new FeatureQuantizer({ nBits, mins, scales: mins.map((m, j) => ((maxs[j] as number) > m ? ((maxs[j] as number) - m) / levels : 1)) });
  }

  /** Number of features. */
  get nFeatures(): number {
    return this.mins.length;
  }

  /**
   * Normalized features `(x - min) / scale` (float64): what a tree circuit takes as input (its input quantizer then
   * rounds them). The CLI stores this as the circuit's `preprocessing.standardize` (`mean = mins`, `std = scales`).
   */
  normalize(x: number[][]): number[][] {
    const rows = checkRows(x, 'normalize', this.nFeatures);
    return rows.map((r) => r.map((v, j) => (v - (this.mins[j] as number)) / (this.scales[j] as number)));
  }

  /** Integer features in `[0, 2^nBits - 1]`: `clip(roundHalfEven(f32(normalize(x))))`. */
  quantize(x: number[][]): number[][] {
    const hi = 2 ** this.nBits - 1;
    return this.normalize(x).map((r) => r.map((v) => Math.min(hi, Math.max(0, roundHalfEven(Math.fround(v))))));
  }

  /** JSON form. */
  toJSON(): FeatureQuantizerJson {
    return { nBits: this.nBits, mins: [...this.mins], scales: [...this.scales] };
  }
}
