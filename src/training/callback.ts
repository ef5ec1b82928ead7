/**
 * Callback protocol after skorch `callbacks/base.py` and tfjs `base_callbacks.ts`: every hook is optional,
 * receives a typed context, and may be async (except `onGradComputed`, which runs inside the training step).
 * Callbacks are named; a user entry with a default's name replaces it, and `null` removes it.
 */
import type * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import type { History } from './history.js';
import type { NeuralNet } from './net.js';

/** What every hook receives. */
export interface TrainingContext {
  /** Current epoch, 1-based, counted over the whole history (0 in onTrainBegin of a fresh net). */
  readonly epoch: number;
  /** The net's history (write with `history.record(key, value)`). */
  readonly history: History;
  /** The tfjs model being trained. */
  readonly model: tf.LayersModel;
  /** The estimator. */
  readonly net: NeuralNet<unknown>;
  /** Ask the loop to stop after the current epoch (like tfjs `model.stopTraining = true`). */
  stopTraining(): void;
  /** The data of the running fit (undefined outside fit). */
  readonly data?: FitData;
}

/** The data of the running fit: all rows as tensors plus the train/validation row indices. */
export interface FitData {
  /** Features, all rows (owned by the net; do not dispose). */
  readonly X: tf.Tensor;
  /** Encoded targets (one-hot for classifiers, scaled values for regressors), all rows. */
  readonly Y: tf.Tensor;
  readonly trainIdx: Int32Array;
  /** Validation rows, or null without a split. */
  readonly validIdx: Int32Array | null;
}

/** Context of the batch hooks. */
export interface BatchContext extends TrainingContext {
  /** Batch index within the epoch, 0-based. */
  readonly batch: number;
  /** Number of batches this epoch (of this phase). */
  readonly nBatches: number;
  /** Samples in this batch. */
  readonly batchSize: number;
  /** True for training batches, false for validation batches. */
  readonly training: boolean;
  /** Mean loss of the batch (onBatchEnd only). */
  readonly loss?: number;
}

/** One trainable variable with the layer it belongs to. */
export interface TrainableVariableInfo {
  /** Key of this variable in `GradContext.grads`. */
  readonly name: string;
  /** Name of the owning layer. */
  readonly layerName: string;
  /** The variable itself. */
  readonly variable: tf.Variable;
}

/** Context of `onGradComputed`: replace entries of `grads` to change what the optimizer applies. */
export interface GradContext extends TrainingContext {
  /** Gradient per trainable variable; assign a new tensor to change it (the old one is disposed by the net). */
  readonly grads: Record<string, tf.Tensor>;
  /** The trainable variables, in optimizer order. */
  readonly variables: readonly TrainableVariableInfo[];
}

/** A training callback. All hooks are optional. */
export interface Callback {
  /** Reset internal state; called by `net.initialize()` (and so by every non-warm `fit`). */
  initialize?(): void;
  onTrainBegin?(ctx: TrainingContext): void | Promise<void>;
  onTrainEnd?(ctx: TrainingContext): void | Promise<void>;
  onEpochBegin?(ctx: TrainingContext): void | Promise<void>;
  onEpochEnd?(ctx: TrainingContext): void | Promise<void>;
  onBatchBegin?(ctx: BatchContext): void | Promise<void>;
  onBatchEnd?(ctx: BatchContext): void | Promise<void>;
  /** Synchronous: runs inside the training step, between gradient computation and the update. */
  onGradComputed?(ctx: GradContext): void;
}

/** A callback, or a `[name, callback]` pair; `[name, null]` removes the default of that name. */
export type CallbackEntry = Callback | readonly [string, Callback | null];

/** Hook names. */
export type HookName = 'onTrainBegin' | 'onTrainEnd' | 'onEpochBegin' | 'onEpochEnd' | 'onBatchBegin' | 'onBatchEnd';

/** Default name of a callback: its `name` field if a string, else its class name in camelCase. */
export function callbackName(cb: Callback): string {
  const own = (cb as { name?: unknown }).name;
  if (typeof own === 'string' && own.length > 0) return own;
  const cls = cb.constructor?.name ?? 'callback';
  return cls.charAt(0).toLowerCase() + cls.slice(1);
}

/**
 * Merge default and user callbacks into one ordered, named list.
 * A user entry whose name matches a default replaces it in place; `[name, null]` removes it.
 * @throws ConfigError on two user callbacks with the same name.
 */
export function resolveCallbacks(defaults: readonly (readonly [string, Callback])[],
  user: readonly CallbackEntry[] | null | undefined): Array<[string, Callback]> {
  const out: Array<[string, Callback | null]> = defaults.map(([n, c]) => [n, c]);
  const seen = new Set<string>();
  for (const entry of user ?? []) {
    const [name, cb] = Array.isArray(entry) ? (entry as readonly [string, Callback | null]) : [callbackName(entry as Callback), entry as Callback];
    if (seen.has(name)) {
      throw new ConfigError(`callbacks: two callbacks are named '${name}'; give one a different name with ['otherName', callback]`);
    }
    seen.add(name);
    const i = out.findIndex(([n]) => n === name);
    if (i >= 0) out[i] = [name, cb];
    else out.push([name, cb]);
  }
  return out.filter((e): e is [string, Callback] => e[1] !== null);
}
