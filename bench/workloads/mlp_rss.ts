/**
 * Peak RSS while training the 4-bit MLP 784-256-256-10 on 60,000 MNIST-sized rows (synthetic uniform [0, 1)
 * floats, random labels) for one epoch through the estimator API:
 * `new NeuralNetClassifier({module__nLayers: 3, module__nHiddenNeurons: 256})` (the SparseQuantNeuralNetwork,
 * 4/4 bits). Runs in its own child process, so the reported maxRSS is this training run's (issue 6: < 1.5 GB).
 */
import * as tf from '@tensorflow/tfjs';
import { NeuralNetClassifier } from '../../src/index.js';
import { cpuSecondsSince, peakRssMB } from '../harness.js';
import type { CustomContext, CustomWorkload, MemoryResult } from '../types.js';
import { BATCH, CLASSES, MLP_HIDDEN, MLP_IN } from './common.js';

/** MNIST training-set size. */
export const RSS_SAMPLES = 60000;

/** xorshift32 floats in [0, 1): fast and seeded, for 47 M values. */
function syntheticRows(n: number, d: number, seed: number): { x: Float32Array; y: number[] } {
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
  const x = new Float32Array(n * d);
  for (let i = 0; i < x.length; i++) x[i] = next();
  const y = Array.from({ length: n }, () => Math.floor(next() * CLASSES));
  return { x, y };
}

async function run(ctx: CustomContext): Promise<MemoryResult> {
  const baseRssMB = process.memoryUsage().rss / (1 << 20);
  const tensorsBefore = tf.memory().numTensors;
  const { x, y } = syntheticRows(RSS_SAMPLES, MLP_IN, 1234);
  const clf = new NeuralNetClassifier({
    module__nLayers: 3, module__nHiddenNeurons: MLP_HIDDEN, maxEpochs: 1, batchSize: BATCH, lr: 1e-3,
    trainSplit: null, verbose: 0, seed: 0,
  });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await clf.fit({ data: x, shape: [RSS_SAMPLES, MLP_IN] }, y);
  const fitSeconds = (performance.now() - t0) / 1000;
  const cpu = cpuSecondsSince(c0);
  clf.dispose();
  return {
    kind: 'memory',
    workload: 'mlp-rss',
    backend: tf.getBackend(),
    kernels: ctx.kernels,
    samples: RSS_SAMPLES,
    epochs: 1,
    fitSeconds,
    trainSamplesPerSec: RSS_SAMPLES / fitSeconds,
    trainSamplesPerCpuSec: cpu > 0 ? RSS_SAMPLES / cpu : 0,
    peakRssMB: peakRssMB(),
    baseRssMB,
    leakedTensors: tf.memory().numTensors - tensorsBefore,
  };
}

/** Workload 'mlp-rss'. */
export const mlpRss: CustomWorkload = {
  kind: 'custom',
  name: 'mlp-rss',
  description: `peak RSS of NeuralNetClassifier({module__nLayers: 3, module__nHiddenNeurons: ${MLP_HIDDEN}}) (4-bit ${MLP_IN}-${MLP_HIDDEN}-${MLP_HIDDEN}-${CLASSES}), 1 epoch on ${RSS_SAMPLES} synthetic ${MLP_IN}-float rows, own process`,
  skipInQuick: `one epoch on ${RSS_SAMPLES} rows takes 40-90 s; run without --quick or with --only mlp-rss`,
  run,
};
