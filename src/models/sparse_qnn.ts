/**
 * SparseQuantNeuralNetwork after Concrete ML (`sklearn/qnn_module.py`): an MLP of
 *   [QuantIdentity -> QuantLinear -> activation] x (nLayers - 1) -> QuantIdentity -> QuantLinear
 * with nWBits weights, nABits activations, power-of-two presets when `powerOfTwoScaling`, and a fan-in budget
 * (`maxActiveNeurons`) enforced per neuron by a PruningCallback that the estimators add automatically.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import { quantIdentity, quantLinear, univariate, getUnivariate } from '../layers/index.js';
import type { Callback } from '../training/callback.js';
import type { ModuleFactory, ModuleParams } from '../training/net_options.js';
import { maxActiveNeurons } from './max_active_neurons.js';
import { PruningCallback } from './pruning_callback.js';
import { structuredPrunePlan } from './structured_prune.js';

/** Options of the SparseQuantNeuralNetwork (`module__*` on the estimators). */
export interface SparseQuantNeuralNetworkOptions {
  /** Number of linear layers (>= 1), required. */
  nLayers: number;
  /** Hidden width = floor(inputDim * multiplier). @default 4 */
  nHiddenNeuronsMultiplier?: number;
  /** Explicit hidden width (one number for all hidden layers, or one per hidden layer); overrides the multiplier. */
  nHiddenNeurons?: number | readonly number[];
  /** Weight bits. @default 4 */
  nWBits?: number;
  /** Activation bits. @default 4 */
  nABits?: number;
  /** Accumulator bits; sets the per-neuron fan-in budget. @default 32 */
  nAccumBits?: number;
  /** Share of hidden neurons removed by structured pruning at initialization (0 = none), in [0, 1). @default 0 */
  nPruneNeuronsPercentage?: number;
  /** Activation: 'relu', 'sigmoid', 'tanh', 'gelu', 'leakyRelu' or a name registered with registerUnivariate. @default 'relu' */
  activation?: string;
  /** Narrow quantization ranges. @default false */
  quantNarrow?: boolean;
  /** Signed activation quantizers. @default true */
  quantSigned?: boolean;
  /** Power-of-two scales (Int8*PerTensorPoT presets, Int32 bias). @default true */
  powerOfTwoScaling?: boolean;
  /** Training steps of activation statistics collection before the clip value is learned. @default 300 */
  collectStatsSteps?: number;
}

/** Resolved options. */
export type ResolvedSparseQnnOptions = Required<Omit<SparseQuantNeuralNetworkOptions, 'nHiddenNeurons'>> & { readonly hiddenWidths: number[]; readonly maxActiveNeurons: number };

/** The `module__*` keys the SparseQuantNeuralNetwork accepts. */
export const SPARSE_QNN_PARAM_NAMES = ['nLayers', 'nHiddenNeuronsMultiplier', 'nHiddenNeurons', 'nWBits', 'nABits', 'nAccumBits',
  'nPruneNeuronsPercentage', 'activation', 'quantNarrow', 'quantSigned', 'powerOfTwoScaling', 'collectStatsSteps'] as const;

function int(v: unknown, name: string, min: number, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(`SparseQuantNeuralNetwork: ${name} must be an integer in [${min}, ${max}]; got ${JSON.stringify(v)}` +
      (name === 'nLayers' ? ' (pass module__nLayers, e.g. 3)' : ''));
  }
  return v;
}

function bool(v: unknown, name: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new ConfigError(`SparseQuantNeuralNetwork: ${name} must be true or false; got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Validate and apply defaults; `inputDim` sets the default hidden width. The only place these options are checked.
 * @throws ConfigError naming the option, the value and the accepted range.
 */
export function resolveSparseQnnOptions(p: Readonly<Record<string, unknown>>, inputDim?: number): ResolvedSparseQnnOptions {
  const nLayers = int(p['nLayers'], 'nLayers', 1);
  const mult = p['nHiddenNeuronsMultiplier'] ?? 4;
  if (typeof mult !== 'number' || !(mult > 0)) throw new ConfigError(`SparseQuantNeuralNetwork: nHiddenNeuronsMultiplier must be > 0; got ${JSON.stringify(mult)}`);
  const nWBits = int(p['nWBits'] ?? 4, 'nWBits', 2, 16);
  const nABits = int(p['nABits'] ?? 4, 'nABits', 2, 16);
  const nAccumBits = int(p['nAccumBits'] ?? 32, 'nAccumBits', 2, 64);
  const prunePct = p['nPruneNeuronsPercentage'] ?? 0;
  if (typeof prunePct !== 'number' || !(prunePct >= 0 && prunePct < 1)) {
    throw new ConfigError(`SparseQuantNeuralNetwork: nPruneNeuronsPercentage must be in [0, 1); got ${JSON.stringify(prunePct)}`);
  }
  const activation = p['activation'] ?? 'relu';
  if (typeof activation !== 'string') throw new ConfigError(`SparseQuantNeuralNetwork: activation must be a registered function name; got ${typeof activation}`);
  getUnivariate(activation);
  const nHidden = nLayers - 1;
  const given = p['nHiddenNeurons'];
  let hiddenWidths: number[];
  if (given !== undefined) {
    const list = Array.isArray(given) ? (given as unknown[]) : new Array<unknown>(nHidden).fill(given);
    if (list.length !== nHidden) throw new ConfigError(`SparseQuantNeuralNetwork: nHiddenNeurons lists ${list.length} widths but nLayers = ${nLayers} has ${nHidden} hidden layers`);
    hiddenWidths = list.map((w, i) => int(w, `nHiddenNeurons[${i}]`, 1));
  } else {
    const w = Math.max(1, Math.floor((inputDim ?? 1) * mult));
    hiddenWidths = new Array<number>(nHidden).fill(w);
  }
  if (prunePct > 0) hiddenWidths = hiddenWidths.map((w) => Math.max(1, w - Math.round(w * prunePct)));
  return {
    nLayers, nHiddenNeuronsMultiplier: mult, nWBits, nABits, nAccumBits, nPruneNeuronsPercentage: prunePct, activation,
    quantNarrow: bool(p['quantNarrow'], 'quantNarrow', false),
    quantSigned: bool(p['quantSigned'], 'quantSigned', true),
    powerOfTwoScaling: bool(p['powerOfTwoScaling'], 'powerOfTwoScaling', true),
    collectStatsSteps: int(p['collectStatsSteps'] ?? 300, 'collectStatsSteps', 0),
    hiddenWidths,
    maxActiveNeurons: maxActiveNeurons({ nWBits, nABits, nAccumBits }),
  };
}

/**
 * Build the network as a tf.Sequential. An `inputShape` of rank > 1 is quantized as it is, then flattened (the
 * input quantizer must come first for the circuit export; a per-tensor quantizer does not care about the shape).
 * Structured pruning (`nPruneNeuronsPercentage`) is applied as narrower hidden layers.
 * @example const m = buildSparseQnn({ inputDim: 30, inputShape: [30], nOutputs: 2, nLayers: 3 });
 */
export function buildSparseQnn(params: ModuleParams): tf.Sequential {
  const o = resolveSparseQnnOptions(params, params.inputDim);
  const pot = o.powerOfTwoScaling;
  const model = tf.sequential();
  const first: { inputShape: number[] } = { inputShape: params.inputShape.length > 0 ? params.inputShape : [params.inputDim] };
  const widths = [...o.hiddenWidths, params.nOutputs];
  widths.forEach((units, i) => {
    model.add(quantIdentity({
      ...(i === 0 ? first : {}),
      bitWidth: o.nABits, signed: o.quantSigned, narrowRange: o.quantNarrow,
      actQuant: pot ? 'Int8ActPerTensorPoT' : 'Int8ActPerTensorFloat', collectStatsSteps: o.collectStatsSteps,
    }));
    if (i === 0 && params.inputShape.length > 1) model.add(tf.layers.flatten());
    model.add(quantLinear({
      units, useBias: true, weightBitWidth: o.nWBits, weightNarrowRange: o.quantNarrow,
      weightQuant: pot ? 'Int8WeightPerTensorPoT' : 'Int8WeightPerTensorFloat', biasQuant: pot ? 'Int32Bias' : 'none',
    }));
    if (i < widths.length - 1) model.add(univariate({ fn: o.activation }));
  });
  return model;
}

/** Callbacks the estimators add for this module: the per-neuron fan-in pruning (named 'pruning'). */
function moduleCallbacks(params: Readonly<Record<string, unknown>>): Array<[string, Callback]> {
  if (params['nLayers'] === undefined) return [];
  const o = resolveSparseQnnOptions(params);
  return [['pruning', new PruningCallback({ maxActiveNeurons: o.maxActiveNeurons })]];
}

/**
 * The SparseQuantNeuralNetwork module factory, the default `module` of NeuralNetClassifier/Regressor.
 * Accepts the `module__*` keys in SPARSE_QNN_PARAM_NAMES, contributes the 'pruning' callback and supports
 * structured pruning (`estimator.prune`).
 */
export const sparseQuantNeuralNetwork: ModuleFactory = Object.assign((params: ModuleParams) => buildSparseQnn(params), {
  paramNames: SPARSE_QNN_PARAM_NAMES,
  moduleCallbacks,
  structuredPrune: structuredPrunePlan,
});
