/**
 * The `workers` option of the estimators: how many threads share each training batch, and the automatic choice.
 */
import { availableParallelism, loadavg } from 'node:os';
import type * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../errors.js';

/** Threads per training step: 1 (the training thread alone), an explicit count, or 'auto'. */
export type WorkersOption = number | 'auto';

/** Largest explicit worker count accepted. */
export const MAX_WORKERS = 16;

/**
 * Smallest estimated work per training step (forward + backward, MFLOP) for which 'auto' uses two threads.
 * Measured (wasm, 2 vCPU, per-thread CPU): a 4-bit QAT step has a large batch-independent part (weight
 * quantization, per-op overhead, Adam), so half a batch costs ~60-70% of a whole one at batch 128.
 * MLP 784-256-256-10 4-bit: batch 128 (206 MFLOP) the training thread's CPU per step drops only 47.6 -> 39.8 ms
 * (<= 1.2x on an idle machine, 1.7x slower wall on the loaded one); batch 512 (824 MFLOP) 116 -> 68 ms
 * (~1.7x idle, same CPU per sample). Breast-cancer net (14 MFLOP): always slower.
 */
export const AUTO_MIN_MFLOP_PER_STEP = 400;

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
  /** 1-minute load average. @default os.loadavg()[0] */
  readonly loadAverage?: number;
}

/**
 * The number of threads to use: explicit counts as given (capped to the batch rows). 'auto' gives 2 for the
 * wasm/cpu backends when the step is at least AUTO_MIN_MFLOP_PER_STEP and a second core is idle (1-minute load
 * average <= cores - 1.5: on a busy machine the two threads wait for each other), else 1.
 */
export function chooseWorkerCount(opt: WorkersOption, c: WorkerChoiceInput): number {
  if (opt !== 'auto') return Math.max(1, Math.min(opt, c.batchRows));
  const cores = availableParallelism();
  if (!c.builtInCriterion || (c.backend !== 'wasm' && c.backend !== 'cpu') || cores < 2 || c.batchRows < 2) return 1;
  if ((c.loadAverage ?? loadavg()[0] ?? 0) > cores - 1.5) return 1;
  return estimateStepMflop(c.model, c.batchRows) >= AUTO_MIN_MFLOP_PER_STEP ? 2 : 1;
}
