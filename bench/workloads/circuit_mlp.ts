/**
 * Circuit simulation of the 4-bit MLP 784-256-256-10 next to tfjs inference of the same net on the same backend:
 * a few training steps (so the quantizers' statistics are real), exportCircuit on calibration rows, then the same
 * Float32Array of samples through simulateCircuit, the float twin's predict(x, {batchSize: 128}) and the
 * fake-quantized model's predict (plus the float twin in one batch: tfjs' predict with batchSize 128 gets slower per
 * sample as x grows on wasm, so both are shown). Every path starts from the Float32Array and ends with the outputs read back.
 */
import * as tf from '@tensorflow/tfjs';
import { parseCircuit } from '../../src/export/circuit_parse.js';
import { simulateCircuit } from '../../src/export/simulate.js';
import { exportCircuit } from '../../src/export/to_circuit.js';
import { cpuSecondsSince, median, peakRssMB } from '../harness.js';
import type { CircuitResult, CustomContext, CustomWorkload } from '../types.js';
import { BATCH, CLASSES, MLP_IN } from './common.js';
import { mlpFloat } from './mlp_float.js';
import { mlpQat4 } from './mlp_qat.js';

const SEED = 1234;

/** Uniform [0, 1) rows (MNIST-like pixel range), seeded. */
function rows(n: number, seed: number): Float32Array {
  return tf.tidy(() => tf.randomUniform([n, MLP_IN], 0, 1, 'float32', seed).dataSync() as Float32Array);
}

/** Median wall ms and total CPU seconds of `reps` calls of fn. */
function timeIt(reps: number, fn: () => void): { ms: number; cpu: number } {
  fn();
  const ms: number[] = [];
  let cpu = 0;
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
    cpu += cpuSecondsSince(c0);
  }
  return { ms: median(ms), cpu };
}

/** Argmax per row of a [n, classes] buffer. */
function argmax(v: ArrayLike<number>, n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < CLASSES; c++) if (v[i * CLASSES + c]! > v[i * CLASSES + best]!) best = c;
    out[i] = best;
  }
  return out;
}

async function run(ctx: CustomContext): Promise<CircuitResult> {
  const tensorsBefore = tf.memory().numTensors;
  const [trainSteps, samples, reps] = ctx.quick ? [6, 512, 3] : [30, 4096, 5];
  const model = mlpQat4.build(SEED);
  const float = mlpFloat.build(SEED);
  const opt = tf.train.adam(1e-3);
  const trainX = rows(4 * BATCH, SEED + 1);
  const labels = tf.tidy(() => tf.oneHot(tf.randomUniform([4 * BATCH], 0, CLASSES, 'float32', SEED + 2).floor().toInt(), CLASSES).toFloat());
  const xAll = tf.tensor2d(trainX, [4 * BATCH, MLP_IN]);
  for (let s = 0; s < trainSteps; s++) {
    const b = s % 4;
    tf.tidy(() => {
      const x = tf.slice(xAll, [b * BATCH, 0], [BATCH, MLP_IN]);
      const y = tf.slice(labels, [b * BATCH, 0], [BATCH, CLASSES]);
      opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
    });
  }
  const t0 = performance.now();
  const { circuit, report } = exportCircuit(model, xAll, { maxCalibrationSamples: ctx.quick ? 256 : 512 });
  const exportMs = performance.now() - t0;
  tf.dispose([xAll, labels]);
  opt.dispose();
  const parsed = parseCircuit(circuit);

  const X = rows(samples, SEED + 3);
  let simPred: Int32Array = new Int32Array(0);
  let qatPred: Int32Array = new Int32Array(0);
  const sim = timeIt(reps, () => { simPred = Int32Array.from(simulateCircuit(parsed, X).predictions); });
  const predictWith = (m: tf.LayersModel, batchSize = BATCH): Float32Array => {
    const x = tf.tensor2d(X, [samples, MLP_IN]);
    const out = m.predict(x, { batchSize }) as tf.Tensor;
    const v = out.dataSync() as Float32Array;
    tf.dispose([x, out]);
    return v;
  };
  const flt = timeIt(reps, () => { predictWith(float); });
  const fltOne = timeIt(reps, () => { predictWith(float, samples); });
  const qat = timeIt(reps, () => { qatPred = argmax(predictWith(model), samples); });
  const agree = simPred.filter((p, i) => p === qatPred[i]).length / samples;
  model.dispose();
  float.dispose();
  return {
    kind: 'circuit',
    workload: 'circuit-mlp',
    backend: tf.getBackend(),
    kernels: ctx.kernels,
    samples,
    trainSteps,
    exportMs,
    simulateSamplesPerSec: (samples * 1000) / sim.ms,
    simulateSamplesPerCpuSec: sim.cpu > 0 ? (samples * reps) / sim.cpu : 0,
    floatPredictSamplesPerSec: (samples * 1000) / flt.ms,
    floatPredictSamplesPerCpuSec: flt.cpu > 0 ? (samples * reps) / flt.cpu : 0,
    floatOneBatchSamplesPerSec: (samples * 1000) / fltOne.ms,
    qatPredictSamplesPerSec: (samples * 1000) / qat.ms,
    agreement: agree,
    maxTluInputBits: report.maxTluInputBits,
    peakRssMB: peakRssMB(),
    leakedTensors: tf.memory().numTensors - tensorsBefore,
  };
}

/** Workload 'circuit-mlp'. */
export const circuitMlp: CustomWorkload = {
  kind: 'custom',
  name: 'circuit-mlp',
  description: `simulateCircuit of the ${MLP_IN}-256-256-${CLASSES} 4-bit MLP (mlp-qat4 after a few steps) vs tfjs predict (float twin, batch ${BATCH}; fake-quant model)`,
  run,
};
