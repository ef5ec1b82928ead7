/**
 * Shared measurement of the breast-cancer estimator workloads: `NeuralNetClassifier` fitted through the public
 * API (src/index.ts) on data/breast_cancer.csv, timed per `partialFit` repetition after a warm-up fit.
 */
import * as tf from '@tensorflow/tfjs';
import { NeuralNetClassifier, type NeuralNetClassifierOptions } from '../../src/index.js';
import { cpuSecondsSince, median, peakRssMB } from '../harness.js';
import type { CustomContext, Variant, WorkloadResult } from '../types.js';
import { loadBreastCancer } from './breast_cancer_data.js';

/** Batch size of the estimator workloads (the estimators' default). */
export const BC_BATCH = 128;

/** Epochs: [warm-up, reps, epochs per rep]. */
export function bcSettings(quick: boolean): [warmup: number, reps: number, epochsPerRep: number] {
  return quick ? [1, 3, 3] : [2, 5, 10];
}

/** Fit, time training epochs and predict, and score the test split. */
export async function measureBcEstimator(name: string, variant: Variant, options: NeuralNetClassifierOptions,
  ctx: CustomContext): Promise<WorkloadResult> {
  const tensorsBefore = tf.memory().numTensors;
  const ds = loadBreastCancer();
  const [warmup, reps, epochsPerRep] = bcSettings(ctx.quick);
  const clf = new NeuralNetClassifier({ ...options, maxEpochs: warmup, batchSize: BC_BATCH, lr: 0.01, trainSplit: null, verbose: 0, seed: 0 });
  await clf.fit(ds.xTrain, ds.yTrain);
  const nTrain = ds.xTrain.length;
  const stepsPerEpoch = Math.ceil(nTrain / BC_BATCH);
  const repMs: number[] = [];
  let cpu = 0;
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await clf.partialFit(ds.xTrain, ds.yTrain, epochsPerRep);
    repMs.push(performance.now() - t0);
    cpu += cpuSecondsSince(c0);
  }
  const all = [...ds.xTrain, ...ds.xTest];
  clf.predict(all);
  const inferMs: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) clf.predict(all);
    inferMs.push((performance.now() - t0) / 5);
  }
  const pred = clf.predict(ds.xTest);
  const testAccuracy = pred.filter((p, i) => p === ds.yTest[i]).length / ds.yTest.length;
  const epochs = warmup + reps * epochsPerRep;
  clf.dispose();
  const msRep = median(repMs);
  return {
    kind: 'train',
    workload: name,
    net: 'bc',
    variant,
    backend: tf.getBackend(),
    kernels: ctx.kernels,
    batchSize: BC_BATCH,
    trainSamplesPerSec: (nTrain * epochsPerRep * 1000) / msRep,
    trainSamplesPerCpuSec: cpu > 0 ? (nTrain * epochsPerRep * reps) / cpu : 0,
    inferSamplesPerSec: (all.length * 1000) / median(inferMs),
    msPerStep: msRep / (epochsPerRep * stepsPerEpoch),
    peakRssMB: peakRssMB(),
    leakedTensors: tf.memory().numTensors - tensorsBefore,
    options: { warmupSteps: warmup * stepsPerEpoch, reps, stepsPerRep: epochsPerRep * stepsPerEpoch },
    testAccuracy,
    note: `breast cancer ${nTrain} train / ${ds.xTest.length} test rows, ${epochs} epochs`,
  };
}
