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

/** Run warm-up, timed training reps and timed inference reps; report medians. */
export function measureWorkload(w: Workload, opts: MeasureOptions, kernels: 'on' | 'off', seed = 1234): WorkloadResult {
  const tensorsBefore = tf.memory().numTensors;
  const model = w.build(seed);
  const optimizer = makeOptimizer('adam', 1e-3);
  const batches = makeBatches(w, 4, seed);
  const batchAt = (i: number): { x: tf.Tensor; y: tf.Tensor } => batches[i % batches.length]!;
  const step = (i: number): void => {
    const { x, y } = batchAt(i);
    optimizer.minimize(() => {
      const logits = model.apply(x, { training: true }) as tf.Tensor;
      return kernels === 'on' ? softmaxCrossEntropy(y, logits) : tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
    }, false);
  };
  const sync = (): void => {
    const v = model.trainableWeights[0];
    if (v !== undefined) v.read().dataSync();
  };

  let s = 0;
  for (let i = 0; i < opts.warmupSteps; i++) step(s++);
  sync();
  const stepMs: number[] = [];
  let trainCpu = 0;
  let trainSteps = 0;
  for (let r = 0; r < opts.reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < opts.stepsPerRep; i++) step(s++);
    sync();
    stepMs.push((performance.now() - t0) / opts.stepsPerRep);
    trainCpu += cpuSecondsSince(c0);
    trainSteps += opts.stepsPerRep;
  }

  const inferMs: number[] = [];
  const predictOnce = (i: number): void => {
    const out = model.predict(batchAt(i).x) as tf.Tensor;
    out.dataSync();
    out.dispose();
  };
  predictOnce(0);
  for (let r = 0; r < opts.reps; r++) {
    const t0 = performance.now();
    for (let i = 0; i < opts.stepsPerRep; i++) predictOnce(i);
    inferMs.push((performance.now() - t0) / opts.stepsPerRep);
  }

  for (const b of batches) tf.dispose([b.x, b.y]);
  optimizer.dispose();
  model.dispose();
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
  };
}
