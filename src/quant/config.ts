/**
 * Quantizer configurations as plain, serializable data (no injector, no class tree), resolved and
 * validated in one place. Enum strings are camelCase so they survive tfjs' config case rewriting.
 */
import { ConfigError } from '../errors.js';
import { validateBitWidth } from './int_range.js';

/** How a scale is restricted: any float32, or a power of two (Brevitas PoT presets). */
export type ScaleRestrict = 'float' | 'powerOfTwo';

/** Weight quantizer: scale from abs-max statistics of the weights, recomputed on every forward. */
export interface WeightQuantConfig {
  readonly kind: 'weight';
  /** @default 8 */
  readonly bitWidth: number;
  /** Weights are always signed in Brevitas' presets. @default true */
  readonly signed: boolean;
  /** @default true */
  readonly narrowRange: boolean;
  /** One scale per output channel (last kernel axis) instead of one per tensor. @default false */
  readonly perChannel: boolean;
  /** @default 'float' */
  readonly restrict: ScaleRestrict;
}

/** Activation quantizer scaling: Brevitas' ParameterFromRuntimeStats, or a constant scale. */
export type ActScaling =
  | { readonly kind: 'runtimeStats'; readonly collectStatsSteps: number; readonly momentum: number; readonly percentile: number }
  | { readonly kind: 'const'; readonly scale: number };

/** Activation quantizer (QuantIdentity, QuantReLU). */
export interface ActQuantConfig {
  readonly kind: 'act';
  /** @default 8 */
  readonly bitWidth: number;
  /** @default true for QuantIdentity, false for QuantReLU */
  readonly signed: boolean;
  /** @default false */
  readonly narrowRange: boolean;
  /** @default runtimeStats with collectStatsSteps 300, momentum 0.1, percentile 99.999 */
  readonly scaling: ActScaling;
  /** @default 'float' */
  readonly restrict: ScaleRestrict;
}

/** Bias quantizer: none (float bias) or Int32Bias (scale = input scale x weight scale). */
export type BiasQuantMode = 'none' | 'int32';

/** Default runtime-statistics scaling of Brevitas' activation presets. */
export const DEFAULT_RUNTIME_STATS: ActScaling = Object.freeze({
  kind: 'runtimeStats', collectStatsSteps: 300, momentum: 0.1, percentile: 99.999,
});

/**
 * Normalize an enum string that may have been rewritten by tfjs serialization
 * ('Int8WeightPerTensorFloat' -> 'int8_weight_per_tensor_float' -> 'int8WeightPerTensorFloat').
 * Matching ignores case and underscores. Returns the canonical spelling.
 * @throws ConfigError naming the accepted values.
 */
export function normalizeEnum<T extends string>(value: unknown, allowed: readonly T[], what: string): T {
  if (typeof value === 'string') {
    const key = value.replace(/_/g, '').toLowerCase();
    const hit = allowed.find((a) => a.replace(/_/g, '').toLowerCase() === key);
    if (hit !== undefined) return hit;
  }
  throw new ConfigError(`${what} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`);
}

/** Validate a weight quantizer config. @throws ConfigError */
export function validateWeightQuant(c: WeightQuantConfig, what = 'weight quantizer'): WeightQuantConfig {
  validateBitWidth(c.bitWidth, `${what}: bitWidth`);
  if (!c.signed) throw new ConfigError(`${what}: unsigned weight quantizers are not supported; use signed: true`);
  if (c.narrowRange === false && c.bitWidth === 1) throw new ConfigError(`${what}: a 1-bit signed full-range grid is {-1, 0}; use bitWidth >= 2`);
  if (c.narrowRange && c.bitWidth < 2) throw new ConfigError(`${what}: a narrow signed grid needs bitWidth >= 2, got ${c.bitWidth}`);
  return c;
}

/** Validate an activation quantizer config. @throws ConfigError */
export function validateActQuant(c: ActQuantConfig, what = 'activation quantizer'): ActQuantConfig {
  validateBitWidth(c.bitWidth, `${what}: bitWidth`);
  if (c.signed && c.narrowRange && c.bitWidth < 2) throw new ConfigError(`${what}: a narrow signed grid needs bitWidth >= 2`);
  if (c.scaling.kind === 'runtimeStats') {
    const { collectStatsSteps, momentum, percentile } = c.scaling;
    if (!Number.isInteger(collectStatsSteps) || collectStatsSteps < 1) {
      throw new ConfigError(`${what}: collectStatsSteps must be a positive integer, got ${String(collectStatsSteps)}`);
    }
    if (!(momentum > 0 && momentum <= 1)) throw new ConfigError(`${what}: momentum must be in (0, 1], got ${String(momentum)}`);
    if (!(percentile > 0 && percentile <= 100)) throw new ConfigError(`${what}: percentile must be in (0, 100], got ${String(percentile)}`);
  } else if (!(Number.isFinite(c.scaling.scale) && c.scaling.scale > 0)) {
    throw new ConfigError(`${what}: a constant scale must be a positive finite number, got ${String(c.scaling.scale)}`);
  }
  return c;
}
