/**
 * Types shared by the benchmark harness (bench/run.ts), its per-workload child (bench/run_one.ts) and the
 * workload registry (bench/workloads/).
 */
import type * as tf from '@tensorflow/tfjs';

/** Which network a workload trains (the PyTorch peer has 'mlp' and 'cnn'; 'bc' = breast-cancer estimator MLP). */
export type NetName = 'mlp' | 'cnn' | 'bc';

/**
 * Float or quantization-aware (fake-quantized) variant. 'qat4' is timed while the activation quantizers collect
 * statistics (Brevitas' first collectStatsSteps training steps, 300 by default); 'qat4-learned' after the switch to
 * learned clip values (collectStatsSteps 1: the switch happens in the warm-up), which is where long runs spend most steps.
 * Add new variants here (e.g. 'qat8').
 */
export type Variant = 'float' | 'qat4' | 'qat4-learned';

/** The PyTorch peer's workload name for a workload (its fake-quant has no statistics phase: both QAT variants map to qat4). */
export function peerKey(net: NetName, variant: Variant): string {
  return `${net}-${variant === 'qat4-learned' ? 'qat4' : variant}`;
}

/** One training benchmark workload: a model builder plus its synthetic-data shape (measured by bench/harness.ts). */
export interface Workload {
  /** Absent or 'train' for the harness' training loop. */
  readonly kind?: 'train';
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

/** What a custom workload gets from the runner. */
export interface CustomContext {
  /** `--quick`: fewer rows/steps (the whole suite stays under 2 minutes). */
  readonly quick: boolean;
  /** Kernel mode of this process. */
  readonly kernels: 'on' | 'off';
}

/**
 * A workload with its own measurement (estimators, circuit simulation, trees, memory): runs in its own child
 * process like the others and returns one result.
 */
export interface CustomWorkload {
  readonly kind: 'custom';
  /** Unique id. */
  readonly name: string;
  /** One line for the legend. */
  readonly description: string;
  /** When set, `--quick` skips the workload and prints this reason. */
  readonly skipInQuick?: string;
  /** Measure (the backend is already active). */
  run(ctx: CustomContext): Promise<AnyResult>;
}

/** Every registered workload. */
export type AnyWorkload = Workload | CustomWorkload;

/** How much to measure. */
export interface MeasureOptions {
  /** Training steps before timing. */
  readonly warmupSteps: number;
  /** Timed repetitions (the median is reported). */
  readonly reps: number;
  /** Training steps (and inference batches) per repetition. */
  readonly stepsPerRep: number;
}

/** The measurement of one training workload in one process. */
export interface WorkloadResult {
  /** Result kind (absent in results written before the custom workloads existed). */
  readonly kind?: 'train';
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
  /** Test accuracy after training (estimator workloads on real data). */
  readonly testAccuracy?: number;
  /** Free-form note for the table (e.g. the data used). */
  readonly note?: string;
  /** QAT workloads: the float twin timed in the same process, reps alternating with this workload's. */
  readonly paired?: PairedFloat;
}

/** A QAT workload's float twin measured beside it (bench/harness.ts). */
export interface PairedFloat {
  /** The float workload's name. */
  readonly twin: string;
  /** Median wall ms per training step of the float twin. */
  readonly floatMsPerStep: number;
  /** Median over the rep pairs of QAT ms / float ms (the QAT/float target's figure). */
  readonly ratio: number;
  /** Every pair's ratio, in rep order. */
  readonly ratios: readonly number[];
  /** The full run measures in several processes and keeps the median one: every process's ratio. */
  readonly processRatios?: readonly number[];
}

/** Circuit simulation next to tfjs inference of the same model (issue 4 / issue 6 target: sim / float >= 1). */
export interface CircuitResult {
  readonly kind: 'circuit';
  readonly workload: string;
  readonly backend: string;
  readonly kernels: 'on' | 'off';
  /** Samples run through each path. */
  readonly samples: number;
  /** Training steps before export (so quantizer statistics are real). */
  readonly trainSteps: number;
  /** Wall ms of exportCircuit (incl. its verification pass). */
  readonly exportMs: number;
  /** simulateCircuit, samples per wall second (median). */
  readonly simulateSamplesPerSec: number;
  /** simulateCircuit, samples per process-CPU second. */
  readonly simulateSamplesPerCpuSec: number;
  /** Float twin `model.predict(x, {batchSize: 128})`, samples per wall second (median). */
  readonly floatPredictSamplesPerSec: number;
  /** Float twin predict, samples per process-CPU second. */
  readonly floatPredictSamplesPerCpuSec: number;
  /** Float twin `model.predict(x, {batchSize: samples})` (one batch), samples per wall second (median). */
  readonly floatOneBatchSamplesPerSec?: number;
  /** Fake-quantized model predict, samples per wall second (median). */
  readonly qatPredictSamplesPerSec: number;
  /** Share of samples where the circuit's argmax equals the fake-quantized model's. */
  readonly agreement: number;
  /** Largest TLU input bit width of the circuit. */
  readonly maxTluInputBits: number;
  readonly peakRssMB: number;
  readonly leakedTensors: number;
}

/** One tree strategy against the source library. */
export interface TreeStrategyTiming {
  readonly strategy: string;
  /** Median wall ms of convert-input + predict + read back, all rows. */
  readonly ms: number;
  /** library ms / strategy ms (> 1: the tensor form is faster). */
  readonly speedup: number;
  /** Classes identical to the library's on every row. */
  readonly identical: boolean;
}

/** Tree models: tensor strategies vs the library's own predict (issue 7). */
export interface TreesResult {
  readonly kind: 'trees';
  readonly workload: string;
  readonly backend: string;
  readonly kernels: 'on' | 'off';
  /** Rows predicted per timing. */
  readonly rows: number;
  readonly models: ReadonlyArray<{ readonly model: string; readonly libraryMs: number; readonly strategies: readonly TreeStrategyTiming[] }>;
  readonly peakRssMB: number;
  readonly leakedTensors: number;
}

/** Peak memory of a training run through the estimator API (issue 6 target: < 1.5 GB). */
export interface MemoryResult {
  readonly kind: 'memory';
  readonly workload: string;
  readonly backend: string;
  readonly kernels: 'on' | 'off';
  readonly samples: number;
  readonly epochs: number;
  /** Wall seconds of fit. */
  readonly fitSeconds: number;
  /** samples * epochs / fit seconds. */
  readonly trainSamplesPerSec: number;
  /** samples * epochs / process-CPU seconds of fit. */
  readonly trainSamplesPerCpuSec: number;
  /** Peak RSS of the process (its own child), MB. */
  readonly peakRssMB: number;
  /** RSS before the data was made, MB. */
  readonly baseRssMB: number;
  readonly leakedTensors: number;
}

/** Any child result. */
export type AnyResult = WorkloadResult | CircuitResult | TreesResult | MemoryResult;

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
  /** True when skipped on purpose (e.g. under --quick), not a failure. */
  readonly skipped?: boolean;
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
