/**
 * The `workers` option of the estimators: how many threads share each training batch, and the automatic choice.
 */
import { availableParallelism } from 'node:os';
import type * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../errors.js';

/** Threads per training step: 1 (the training thread alone), an explicit count, or 'auto'. */
export type WorkersOption = number | 'auto';

/** Largest explicit worker count accepted. */
export const MAX_WORKERS = 16;

/**
 * Smallest estimated work per training step (forward + backward, MFLOP) for which 'auto' uses two threads.
 * Below it the per-step hand-off (weights, rows and gradients through shared memory, two thread wake-ups)
 * costs more than half a step saves; see docs/performance.md ("Data-parallel training").
 */
export const AUTO_MIN_MFLOP_PER_STEP = 40;

/**
 * Validate the `workers` option.
 * @throws ConfigError unless it is 'auto' or an integer in [1, MAX_WORKERS].
 */
export function resolveWorkersOption(v: unknown): WorkersOption {
  if (v === undefined) return 1;
  if (v === 'auto') return 'auto';
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_WORKERS) return v;
  throw new ConfigError(`workers must be 'auto' or an integer in [1, ${MAX_WORKERS}] (1 = no worker threads); got ${JSON.stringify(v)}`);
}

/**
 * Estimated MFLOP of one training step on `rows` samples: 3 x (2 x MACs of the forward), with MACs per
 * sample = kernel size x output positions for each layer with a kernel (dense: 1 position).
 */
export function estimateStepMflop(model: tf.LayersModel, rows: number): number {
  let macs = 0;
  for (const layer of model.layers) {
    const k = layer.trainableWeights[0];
    if (k === undefined || k.shape.length < 2) continue;
    const out = layer.outputShape;
    const shape = Array.isArray(out) && Array.isArray(out[0]) ? (out[0] as number[]) : (out as (number | null)[]);
    const positions = shape.length > 2 ? shape.slice(1, -1).reduce<number>((a, b) => a * (b ?? 1), 1) : 1;
    macs += k.shape.reduce<number>((a, b) => a * (b ?? 1), 1) * positions;
  }
  return (6 * macs * rows) / 1e6;
}

/** What the automatic choice looks at. */
export interface WorkerChoiceInput {
  readonly backend: string;
  readonly builtInCriterion: boolean;
  readonly model: tf.LayersModel;
  /** Rows of a full training batch. */
  readonly batchRows: number;
}

/**
 * The number of threads to use: explicit counts as given (capped to the batch rows), 'auto' gives 2 on a
 * multi-core machine for the wasm/cpu backends when the step is large enough, else 1.
 */
export function chooseWorkerCount(opt: WorkersOption, c: WorkerChoiceInput): number {
  if (opt !== 'auto') return Math.max(1, Math.min(opt, c.batchRows));
  if (!c.builtInCriterion || (c.backend !== 'wasm' && c.backend !== 'cpu') || availableParallelism() < 2 || c.batchRows < 2) return 1;
  return estimateStepMflop(c.model, c.batchRows) >= AUTO_MIN_MFLOP_PER_STEP ? 2 : 1;
}
