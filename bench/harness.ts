/**
 * Measure one workload in the current process: seeded synthetic data, Adam(1e-3) as tfjs-qat's estimators build it
 * (`makeOptimizer('adam')`, the same for the float and the quantized nets), a custom training loop with
 * optimizer.minimize (model.apply(x, {training: true}), so quantizers run in training mode), then predict.
 */
import * as tf from '@tensorflow/tfjs';
import { makeOptimizer } from '../src/training/optimizers.js';
import { softmaxCrossEntropy } from '../src/training/losses.js';
import type { MeasureOptions, Workload, WorkloadResult } from './types.js';

/** Median of a non-empty list. */
export function median(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Synthetic batches: uniform inputs in [0, 1) and random one-hot labels, from `seed`. */
function makeBatches(w: Workload, count: number, seed: number): Array<{ x: tf.Tensor; y: tf.Tensor }> {
  const out: Array<{ x: tf.Tensor; y: tf.Tensor }> = [];
  for (let i = 0; i < count; i++) {
    out.push(tf.tidy(() => {
      const x = tf.randomUniform([w.batchSize, ...w.inputShape], 0, 1, 'float32', seed + 2 * i);
      const idx = tf.randomUniform([w.batchSize], 0, w.classes, 'float32', seed + 2 * i + 1).floor().toInt();
      return { x, y: tf.oneHot(idx, w.classes).toFloat() };
    }));
  }
  return out;
}

/** CPU seconds (user + system) of this process since `from`. */
export function cpuSecondsSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1e6;
}

/** Peak resident set size of this process so far, MB. */
export function peakRssMB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** One model's training loop (seeded model, Adam, 4 rotating synthetic batches). */
interface Trainer {
  /** One optimizer step. */
  step(): void;
  /** Wait for the last step's results (read one weight back). */
  sync(): void;
  /** Predict one batch and read it back. */
  predictOnce(i: number): void;
  dispose(): void;
}

function makeTrainer(w: Workload, kernels: 'on' | 'off', seed: number): Trainer {
  const model = w.build(seed);
  const optimizer = makeOptimizer('adam', 1e-3);
  const batches = makeBatches(w, 4, seed);
  const batchAt = (i: number): { x: tf.Tensor; y: tf.Tensor } => batches[i % batches.length]!;
  let s = 0;
  return {
    step: () => {
      const { x, y } = batchAt(s++);
      optimizer.minimize(() => {
        const logits = model.apply(x, { training: true }) as tf.Tensor;
        return kernels === 'on' ? softmaxCrossEntropy(y, logits) : tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
      }, false);
    },
    sync: () => {
      const v = model.trainableWeights[0];
      if (v !== undefined) v.read().dataSync();
    },
    predictOnce: (i) => {
      const out = model.predict(batchAt(i).x) as tf.Tensor;
      out.dataSync();
      out.dispose();
    },
    dispose: () => {
      for (const b of batches) tf.dispose([b.x, b.y]);
      optimizer.dispose();
      model.dispose();
    },
  };
}

/** Wall ms per step of `steps` steps, and the process CPU seconds they took. */
function timedRep(t: Trainer, steps: number): { ms: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) t.step();
  t.sync();
  return { ms: (performance.now() - t0) / steps, cpu: cpuSecondsSince(c0) };
}

/**
 * Run warm-up, timed training reps and timed inference reps; report medians. With `twin` (the float net of a QAT
 * workload) both nets live in this process and their timed reps alternate (QAT, float, float, QAT, ...), so the
 * QAT/float ratio compares reps seconds apart under the same machine load: `paired` holds the median of the
 * per-pair ratios.
 */
export function measureWorkload(w: Workload, opts: MeasureOptions, kernels: 'on' | 'off', seed = 1234, twin?: Workload): WorkloadResult {
  const tensorsBefore = tf.memory().numTensors;
  const main = makeTrainer(w, kernels, seed);
  const other = twin === undefined ? null : makeTrainer(twin, kernels, seed);
  for (const t of other === null ? [main] : [main, other]) {
    for (let i = 0; i < opts.warmupSteps; i++) t.step();
    t.sync();
  }
  const stepMs: number[] = [];
  const twinMs: number[] = [];
  const ratios: number[] = [];
  let trainCpu = 0;
  for (let r = 0; r < opts.reps; r++) {
    if (other === null) {
      const a = timedRep(main, opts.stepsPerRep);
      stepMs.push(a.ms);
      trainCpu += a.cpu;
      continue;
    }
    const first = r % 2 === 0;
    const b0 = first ? null : timedRep(other, opts.stepsPerRep);
    const a = timedRep(main, opts.stepsPerRep);
    const b = b0 ?? timedRep(other, opts.stepsPerRep);
    stepMs.push(a.ms);
    twinMs.push(b.ms);
    ratios.push(a.ms / b.ms);
    trainCpu += a.cpu;
  }
  const trainSteps = opts.reps * opts.stepsPerRep;

  const inferMs: number[] = [];
  main.predictOnce(0);
  for (let r = 0; r < opts.reps; r++) {
    const t0 = performance.now();
    for (let i = 0; i < opts.stepsPerRep; i++) main.predictOnce(i);
    inferMs.push((performance.now() - t0) / opts.stepsPerRep);
  }

  main.dispose();
  other?.dispose();
  const msPerStep = median(stepMs);
  return {
    kind: 'train',
    workload: w.name,
    net: w.net,
    variant: w.variant,
    backend: tf.getBackend(),
    kernels,
    batchSize: w.batchSize,
    trainSamplesPerSec: (w.batchSize * 1000) / msPerStep,
    trainSamplesPerCpuSec: trainCpu > 0 ? (w.batchSize * trainSteps) / trainCpu : 0,
    inferSamplesPerSec: (w.batchSize * 1000) / median(inferMs),
    msPerStep,
    peakRssMB: peakRssMB(),
    leakedTensors: tf.memory().numTensors - tensorsBefore,
    options: opts,
    ...(twin === undefined ? {} : { paired: { twin: twin.name, floatMsPerStep: median(twinMs), ratio: median(ratios), ratios } }),
  };
}
