/**
 * Types shared by the benchmark harness (bench/run.ts), its per-workload child (bench/run_one.ts) and the
 * workload registry (bench/workloads/).
 */
import type * as tf from '@tensorflow/tfjs';

/** Which network a workload trains (the PyTorch peer has the same two). */
export type NetName = 'mlp' | 'cnn';

/** Float or quantization-aware (fake-quantized) variant. Add new variants here (e.g. 'qat8'). */
export type Variant = 'float' | 'qat4';

/** One benchmark workload: a model builder plus its synthetic-data shape. */
export interface Workload {
  /** Unique id, `${net}-${variant}` (also the PyTorch peer's key). */
  readonly name: string;
  /** Network family. */
  readonly net: NetName;
  /** Float or QAT variant. */
  readonly variant: Variant;
  /** One line for the table's legend. */
  readonly description: string;
  /** Shape of one input sample, e.g. [784] or [28, 28, 1]. */
  readonly inputShape: readonly number[];
  /** Number of classes (labels are one-hot, loss is softmax cross-entropy). */
  readonly classes: number;
  /** Training and inference batch size. */
  readonly batchSize: number;
  /** Build a fresh model with seeded initializers. */
  build(seed: number): tf.LayersModel;
  /** Reason the workload cannot run here (e.g. quantized layers missing), or undefined. */
  unavailable?(): string | undefined;
}

/** How much to measure. */
export interface MeasureOptions {
  /** Training steps before timing. */
  readonly warmupSteps: number;
  /** Timed repetitions (the median is reported). */
  readonly reps: number;
  /** Training steps (and inference batches) per repetition. */
  readonly stepsPerRep: number;
}

/** The measurement of one workload in one process. */
export interface WorkloadResult {
  /** Workload id. */
  readonly workload: string;
  /** Network family. */
  readonly net: NetName;
  /** Float or QAT variant. */
  readonly variant: Variant;
  /** tfjs backend that ran it. */
  readonly backend: string;
  /** Whether tfjs-qat's kernels were registered ('off' = TFJS_QAT_NO_KERNELS=1). */
  readonly kernels: 'on' | 'off';
  /** Batch size. */
  readonly batchSize: number;
  /** Median training throughput, samples per wall second. */
  readonly trainSamplesPerSec: number;
  /** Training throughput per process-CPU second (robust on a loaded machine). */
  readonly trainSamplesPerCpuSec: number;
  /** Median inference (predict) throughput, samples per wall second. */
  readonly inferSamplesPerSec: number;
  /** Median wall milliseconds per training step. */
  readonly msPerStep: number;
  /** Peak resident set size of the process, MB (process.resourceUsage().maxRSS). */
  readonly peakRssMB: number;
  /** Tensors left over after the run (should be 0). */
  readonly leakedTensors: number;
  /** Measurement settings. */
  readonly options: MeasureOptions;
}

/** A workload that could not be measured. */
export interface WorkloadFailure {
  /** Workload id. */
  readonly workload: string;
  /** Backend requested. */
  readonly backend: string;
  /** Kernel mode. */
  readonly kernels: 'on' | 'off';
  /** Why (error message or unavailability reason). */
  readonly error: string;
}

/** One PyTorch peer measurement (bench/peer_torch.py). */
export interface PeerResult {
  /** Workload id, same as ours. */
  readonly workload: string;
  /** torch.set_num_threads value. */
  readonly threads: number;
  /** Samples per wall second, training. */
  readonly trainSamplesPerSec: number;
  /** Samples per process-CPU second, training. */
  readonly trainSamplesPerCpuSec: number;
  /** Samples per wall second, inference. */
  readonly inferSamplesPerSec: number;
  /** Wall ms per training step. */
  readonly msPerStep: number;
}
