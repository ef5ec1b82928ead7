/**
 * Quantizer presets under Brevitas' names (`quant/scaled_int.py`, Concrete ML's PoT quantizers).
 * Every preset takes overrides (bit width, narrow range, signedness, collection steps).
 */
import { ConfigError } from '../errors.js';
import {
  DEFAULT_RUNTIME_STATS, normalizeEnum, validateActQuant, validateWeightQuant,
  type ActQuantConfig, type ActScaling, type ScaleRestrict, type WeightQuantConfig,
} from './config.js';

/** Names of the weight presets. */
export const WEIGHT_PRESETS = ['Int8WeightPerTensorFloat', 'Int8WeightPerChannelFloat', 'Int8WeightPerTensorPoT'] as const;
/** A weight preset name. */
export type WeightPresetName = (typeof WEIGHT_PRESETS)[number];

/** Names of the activation presets. */
export const ACT_PRESETS = ['Int8ActPerTensorFloat', 'Uint8ActPerTensorFloat', 'Int8ActPerTensorPoT', 'Uint8ActPerTensorPoT'] as const;
/** An activation preset name. */
export type ActPresetName = (typeof ACT_PRESETS)[number];

/** Names of the bias presets. */
export const BIAS_PRESETS = ['none', 'Int32Bias'] as const;
/** A bias preset name: 'none' keeps the bias float; 'Int32Bias' quantizes it to 32 bits. */
export type BiasPresetName = (typeof BIAS_PRESETS)[number];

/** Overrides accepted by every weight preset. */
export interface WeightQuantOverrides {
  bitWidth?: number;
  narrowRange?: boolean;
}

/** Overrides accepted by every activation preset. */
export interface ActQuantOverrides {
  bitWidth?: number;
  signed?: boolean;
  narrowRange?: boolean;
  /** Training forwards that collect statistics before the clip value is learned. @default 300 */
  collectStatsSteps?: number;
  /** Replace runtime statistics by a constant scale. */
  constScale?: number;
}

const WEIGHT_BASE: Record<WeightPresetName, { perChannel: boolean; restrict: ScaleRestrict }> = {
  Int8WeightPerTensorFloat: { perChannel: false, restrict: 'float' },
  Int8WeightPerChannelFloat: { perChannel: true, restrict: 'float' },
  Int8WeightPerTensorPoT: { perChannel: false, restrict: 'powerOfTwo' },
};

const ACT_BASE: Record<ActPresetName, { signed: boolean; restrict: ScaleRestrict }> = {
  Int8ActPerTensorFloat: { signed: true, restrict: 'float' },
  Uint8ActPerTensorFloat: { signed: false, restrict: 'float' },
  Int8ActPerTensorPoT: { signed: true, restrict: 'powerOfTwo' },
  Uint8ActPerTensorPoT: { signed: false, restrict: 'powerOfTwo' },
};

/**
 * Resolve a weight preset and overrides into a validated config.
 * @example weightQuant('Int8WeightPerTensorFloat', {bitWidth: 4}) // 4-bit signed narrow, abs-max per tensor
 * @throws ConfigError for an unknown preset or invalid override.
 */
export function weightQuant(preset: WeightPresetName | string = 'Int8WeightPerTensorFloat', o: WeightQuantOverrides = {}): WeightQuantConfig {
  const name = normalizeEnum(preset, WEIGHT_PRESETS, 'weightQuant');
  const base = WEIGHT_BASE[name];
  return Object.freeze(validateWeightQuant({
    kind: 'weight', bitWidth: o.bitWidth ?? 8, signed: true, narrowRange: o.narrowRange ?? true,
    perChannel: base.perChannel, restrict: base.restrict,
  }, name));
}

/**
 * Resolve an activation preset and overrides into a validated config.
 * @example actQuant('Int8ActPerTensorFloat', {bitWidth: 4}) // signed, T = 8, 300 collection steps
 * @throws ConfigError for an unknown preset or invalid override.
 */
export function actQuant(preset: ActPresetName | string = 'Int8ActPerTensorFloat', o: ActQuantOverrides = {}): ActQuantConfig {
  const name = normalizeEnum(preset, ACT_PRESETS, 'actQuant');
  const base = ACT_BASE[name];
  let scaling: ActScaling = DEFAULT_RUNTIME_STATS;
  if (o.constScale !== undefined) scaling = { kind: 'const', scale: o.constScale };
  else if (o.collectStatsSteps !== undefined) scaling = { kind: 'runtimeStats', collectStatsSteps: o.collectStatsSteps, momentum: 0.1, percentile: 99.999 };
  return Object.freeze(validateActQuant({
    kind: 'act', bitWidth: o.bitWidth ?? 8, signed: o.signed ?? base.signed, narrowRange: o.narrowRange ?? false,
    scaling, restrict: base.restrict,
  }, name));
}

/** Resolve a bias preset name ('none' | 'Int32Bias', case-insensitive). */
export function biasQuant(preset: BiasPresetName | string = 'none'): 'none' | 'int32' {
  const name = normalizeEnum(preset, BIAS_PRESETS, 'biasQuant');
  return name === 'Int32Bias' ? 'int32' : 'none';
}

/** Frozen default configs under Brevitas' names (8 bits). Use `weightQuant` / `actQuant` to override. */
export const Int8WeightPerTensorFloat: WeightQuantConfig = weightQuant('Int8WeightPerTensorFloat');
/** Per-output-channel abs-max weight scales. */
export const Int8WeightPerChannelFloat: WeightQuantConfig = weightQuant('Int8WeightPerChannelFloat');
/** Power-of-two per-tensor weight scale. */
export const Int8WeightPerTensorPoT: WeightQuantConfig = weightQuant('Int8WeightPerTensorPoT');
/** Signed 8-bit activations, runtime-stats then learned clip value. */
export const Int8ActPerTensorFloat: ActQuantConfig = actQuant('Int8ActPerTensorFloat');
/** Unsigned 8-bit activations (QuantReLU's default). */
export const Uint8ActPerTensorFloat: ActQuantConfig = actQuant('Uint8ActPerTensorFloat');
/** Signed 8-bit activations with a power-of-two scale. */
export const Int8ActPerTensorPoT: ActQuantConfig = actQuant('Int8ActPerTensorPoT');
/** Int32 bias quantization: scale = input scale x weight scale, 32 bits, zero point 0. */
export const Int32Bias = Object.freeze({ kind: 'bias' as const, bitWidth: 32 });

/** Throw a ConfigError if `x` is not a boolean. */
export function checkBool(x: unknown, what: string): boolean {
  if (typeof x !== 'boolean') throw new ConfigError(`${what} must be a boolean, got ${JSON.stringify(x)}`);
  return x;
}
