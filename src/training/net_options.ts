/**
 * NeuralNet options (skorch's constructor arguments) and their one validating resolver.
 */
import type * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import type { Callback, CallbackEntry } from './callback.js';
import type { OptimizerSpec } from './optimizers.js';
import { resolveTrainSplit, type ResolvedSplit, type TrainSplit } from './split.js';
import { resolveWorkersOption, type WorkersOption } from './parallel/options.js';

/** What the module builder receives: sizes filled from the data plus every `module__*` option. */
export interface ModuleParams {
  [key: string]: unknown;
  /** Number of input features (product of the sample shape). */
  inputDim: number;
  /** Shape of one sample, e.g. `[30]` or `[28, 28, 1]`. */
  inputShape: number[];
  /** Number of outputs (classes for a classifier, target columns for a regressor). */
  nOutputs: number;
}

/** How a module removes whole neurons: narrower module parameters plus a copy of the kept weights. */
export interface StructuredPrunePlan {
  /** Module parameters (without the `module__` prefix) of the narrower model. */
  readonly moduleParams: Record<string, unknown>;
  /** Copy the kept weights of `src` into `dst` (built from `moduleParams`). */
  copyWeights(src: tf.LayersModel, dst: tf.LayersModel): void;
}

/**
 * Builds the tfjs model. It must set the input shape (so weights are created at build time). Optional fields:
 * `paramNames` (the `module__*` keys it accepts; unknown keys are rejected with a suggestion),
 * `moduleCallbacks` (default callbacks it needs, e.g. pruning), `structuredPrune` (enables `net.prune`).
 */
export type ModuleFactory = ((params: ModuleParams) => tf.LayersModel) & {
  readonly paramNames?: readonly string[];
  readonly moduleCallbacks?: (moduleParams: Readonly<Record<string, unknown>>) => Array<[string, Callback]>;
  readonly structuredPrune?: (model: tf.LayersModel, fraction: number, moduleParams: Readonly<Record<string, unknown>>) => StructuredPrunePlan;
};

/** Loss: mean softmax cross-entropy on logits, mean squared error, or a function `(yTrue, yPred) => scalar`. */
export type Criterion = 'crossEntropy' | 'mse' | ((yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar);

/** Options of NeuralNet and its subclasses; skorch's names and defaults in camelCase. */
export interface NeuralNetOptions {
  /** Model builder (required for NeuralNet; the classifier/regressor default to SparseQuantNeuralNetwork). */
  module?: ModuleFactory;
  /** Loss. @default 'mse' ('crossEntropy' for NeuralNetClassifier) */
  criterion?: Criterion;
  /** Optimizer name, tfjs optimizer or factory. @default 'adam' */
  optimizer?: OptimizerSpec;
  /** Learning rate. @default 0.01 */
  lr?: number;
  /** Epochs per `fit`. @default 10 */
  maxEpochs?: number;
  /** Batch size; -1 means the whole training set. @default 128 */
  batchSize?: number;
  /** Validation split. @default {cv: 5} (stratified for classifiers) */
  trainSplit?: TrainSplit;
  /** Extra callbacks, appended to the defaults; a name equal to a default's replaces it. @default [] */
  callbacks?: readonly CallbackEntry[];
  /** When true, `fit` keeps the fitted weights instead of re-initializing. @default false */
  warmStart?: boolean;
  /** 0 = silent, 1 = per-epoch table (PrintLog). @default 1 */
  verbose?: number;
  /** Seed of weight init, shuffling, the split and in-step randomness (dropout). @default 0 */
  seed?: number;
  /**
   * Threads per training step (data parallel: each takes a share of the batch, gradients are averaged).
   * 1 = the training thread only; 'auto' = 2 when the step is large (>= AUTO_MIN_MFLOP_PER_STEP, e.g. the 784-256-256-10
   * MLP at batch >= 256) and a second core is idle, else 1. Pays only for large steps: see src/training/parallel/options.ts.
   * @default 1
   */
  workers?: WorkersOption;
  /** Module builder options, e.g. `module__nLayers: 3`. */
  [key: `module__${string}`]: unknown;
  /** Optimizer options, e.g. `optimizer__beta1: 0.8`. */
  [key: `optimizer__${string}`]: unknown;
  /** Callback replacement (`callbacks__printLog: null`) or parameters (`callbacks__earlyStopping__patience: 3`). */
  [key: `callbacks__${string}`]: unknown;
}

/** Top-level option names of NeuralNet. */
export const NET_OPTION_KEYS = ['module', 'criterion', 'optimizer', 'lr', 'maxEpochs', 'batchSize', 'trainSplit',
  'callbacks', 'warmStart', 'verbose', 'seed', 'workers'] as const;

/** Options with defaults applied and values checked. */
export interface ResolvedNetOptions {
  readonly module: ModuleFactory | undefined;
  readonly criterion: Criterion;
  readonly optimizer: OptimizerSpec;
  readonly lr: number;
  readonly maxEpochs: number;
  readonly batchSize: number;
  readonly trainSplit: ResolvedSplit | null;
  readonly callbacks: readonly CallbackEntry[];
  readonly warmStart: boolean;
  readonly verbose: number;
  readonly seed: number;
  readonly workers: WorkersOption;
}

function posInt(v: unknown, name: string, allowMinusOne = false): number {
  if (typeof v === 'number' && Number.isInteger(v) && (v >= 1 || (allowMinusOne && v === -1))) return v;
  throw new ConfigError(`${name} must be a positive integer${allowMinusOne ? ' or -1' : ''}; got ${JSON.stringify(v)}`);
}

/**
 * Apply defaults and validate. The only place NeuralNet options are checked.
 * @throws ConfigError naming the option, the value and the accepted range.
 */
export function resolveNetOptions(p: Readonly<Record<string, unknown>>, defaults: { criterion: Criterion; stratified: boolean }): ResolvedNetOptions {
  const module = p['module'];
  if (module !== undefined && typeof module !== 'function') throw new ConfigError(`module must be a function (params) => tf.LayersModel; got ${typeof module}`);
  const criterion = (p['criterion'] ?? defaults.criterion) as Criterion;
  if (criterion !== 'crossEntropy' && criterion !== 'mse' && typeof criterion !== 'function') {
    throw new ConfigError(`criterion must be 'crossEntropy', 'mse' or a function; got ${JSON.stringify(criterion)}`);
  }
  const lr = p['lr'] ?? 0.01;
  if (typeof lr !== 'number' || !(lr > 0) || !Number.isFinite(lr)) throw new ConfigError(`lr must be a positive number; got ${JSON.stringify(lr)}`);
  const split = p['trainSplit'] === undefined ? { cv: 5 } : (p['trainSplit'] as TrainSplit);
  const callbacks = p['callbacks'] ?? [];
  if (!Array.isArray(callbacks)) throw new ConfigError(`callbacks must be an array of callbacks or [name, callback] pairs; got ${typeof callbacks}`);
  const verbose = p['verbose'] ?? 1;
  if (typeof verbose !== 'number') throw new ConfigError(`verbose must be a number (0 = silent); got ${JSON.stringify(verbose)}`);
  const seed = p['seed'] ?? 0;
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new ConfigError(`seed must be a finite number; got ${JSON.stringify(seed)}`);
  const optimizer = (p['optimizer'] ?? 'adam') as OptimizerSpec;
  return {
    module: module as ModuleFactory | undefined,
    criterion,
    optimizer,
    lr,
    maxEpochs: posInt(p['maxEpochs'] ?? 10, 'maxEpochs'),
    batchSize: posInt(p['batchSize'] ?? 128, 'batchSize', true),
    trainSplit: resolveTrainSplit(split, defaults.stratified),
    callbacks: callbacks as CallbackEntry[],
    warmStart: p['warmStart'] === true,
    verbose,
    seed,
    workers: resolveWorkersOption(p['workers']),
  };
}
