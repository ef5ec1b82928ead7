/**
 * Acceptance of the circuit export (issue 4): models trained with the estimators on breast cancer, iris and the
 * MNIST subset, plus a small CNN on the MNIST subset; prints one JSON line per check.
 * Run: npx tsx scripts/acceptance/export_acceptance.ts [--quick]
 */
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../src/backend/use_backend.js';
import { NeuralNetClassifier } from '../../src/training/index.js';
import { compileEstimator, predictWithFhe } from '../../src/export/estimator_fhe.js';
import { exportCircuit } from '../../src/export/to_circuit.js';
import { parseCircuit } from '../../src/export/circuit_schema.js';
import { simulateCircuit } from '../../src/export/simulate.js';
import { quantAvgPool2D, quantConv2D, quantIdentity, quantLinear, quantReLU, univariate } from '../../src/layers/index.js';
import { loadMnistSubset, loadTabular, type SplitData } from './datasets.js';

const quick = process.argv.includes('--quick');
const log = (o: Record<string, unknown>): void => { process.stdout.write(`${JSON.stringify(o)}\n`); };

function agreement(a: ReadonlyArray<unknown>, b: ReadonlyArray<unknown>): number {
  return a.filter((v, i) => v === b[i]).length / a.length;
}

async function estimatorCheck(name: string, d: SplitData, extra: Record<string, unknown>, epochs: number): Promise<void> {
  const t0 = Date.now();
  const clf = new NeuralNetClassifier({ module__nLayers: 3, maxEpochs: epochs, trainSplit: null, verbose: 0, seed: 0, ...extra });
  await clf.fit(d.Xtrain, d.ytrain);
  const { report } = compileEstimator(clf, d.Xtrain);
  const clear = clf.predict(d.Xtest);
  const sim = predictWithFhe(clf, d.Xtest, { fhe: 'simulate' });
  log({
    check: name, testAccuracyModel: agreement(clear, d.ytest), testAccuracyCircuit: agreement(sim as unknown[], d.ytest),
    predictionAgreement: agreement(clear, sim as unknown[]), maxTluInputBits: report.maxTluInputBits, maxBitWidth: report.maxBitWidth,
    maxWorstCaseAccumulatorBits: report.maxWorstCaseAccumulatorBits, maxBrevitasAccBits: report.maxBrevitasAccBits,
    potRoundPbs: report.potRoundPbs.length, jsonBytes: report.jsonBytes, seconds: (Date.now() - t0) / 1000,
  });
  if (name === 'mnist_mlp') throughput(clf.model, d.Xtest, compileEstimator(clf, d.Xtrain).circuit);
  clf.dispose();
}

function throughput(model: tf.LayersModel, X: number[][], circuit: unknown): void {
  const parsed = parseCircuit(circuit);
  const flat = Float32Array.from(X.flat());
  const xt = tf.tensor2d(X);
  const time = (f: () => void, reps: number): number => {
    f();
    const t = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) f();
    return Number(process.hrtime.bigint() - t) / 1e9 / reps;
  };
  const tSim = time(() => { simulateCircuit(parsed, flat); }, 5);
  const tTf = time(() => { const o = model.predict(xt) as tf.Tensor; o.dataSync(); o.dispose(); }, 5);
  xt.dispose();
  log({ check: 'mnist_mlp_throughput', backend: tf.getBackend(), samples: X.length, simulateSamplesPerSecond: X.length / tSim, tfjsSamplesPerSecond: X.length / tTf, ratio: tTf / tSim });
}

function cnnCheck(d: SplitData): void {
  const t0 = Date.now();
  const m = tf.sequential();
  m.add(quantIdentity({ inputShape: [28, 28, 1], bitWidth: 4, actQuant: 'Int8ActPerTensorPoT', collectStatsSteps: 20 }));
  m.add(quantConv2D({ filters: 8, kernelSize: 3, weightBitWidth: 4, weightQuant: 'Int8WeightPerTensorPoT', biasQuant: 'Int32Bias', kernelInitializer: tf.initializers.heNormal({ seed: 1 }) }));
  m.add(univariate({ fn: 'relu' }));
  m.add(quantIdentity({ bitWidth: 4, actQuant: 'Int8ActPerTensorPoT', collectStatsSteps: 20 }));
  m.add(quantAvgPool2D({ poolSize: 2 }));
  m.add(quantConv2D({ filters: 16, kernelSize: 3, strides: 2, weightBitWidth: 4, kernelInitializer: tf.initializers.heNormal({ seed: 2 }) }));
  m.add(quantReLU({ bitWidth: 4, collectStatsSteps: 20 }));
  m.add(tf.layers.flatten());
  m.add(quantLinear({ units: 10, weightBitWidth: 4, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }));
  const nTrain = quick ? 1000 : d.Xtrain.length;
  const x = tf.tensor4d(Float32Array.from(d.Xtrain.slice(0, nTrain).flat()), [nTrain, 28, 28, 1]);
  const y = tf.oneHot(tf.tensor1d(d.ytrain.slice(0, nTrain), 'int32'), 10).toFloat();
  const opt = tf.train.adam(0.005);
  const bs = 64;
  const epochs = quick ? 1 : 2;
  for (let e = 0; e < epochs; e++) {
    for (let s = 0; s + bs <= nTrain; s += bs) {
      tf.tidy(() => {
        const xb = tf.slice(x, s, bs);
        const yb = tf.slice(y, s, bs);
        opt.minimize(() => tf.losses.softmaxCrossEntropy(yb, m.apply(xb, { training: true }) as tf.Tensor) as tf.Scalar);
      });
    }
  }
  const calib = tf.slice(x, 0, Math.min(nTrain, 3000));
  const { circuit, report } = exportCircuit(m, calib);
  const xt = tf.tensor4d(Float32Array.from(d.Xtest.flat()), [d.Xtest.length, 28, 28, 1]);
  const ref = tf.tidy(() => tf.argMax(m.predict(xt) as tf.Tensor, 1));
  const refPred = Array.from(ref.dataSync());
  const sim = simulateCircuit(circuit, xt);
  log({
    check: 'mnist_cnn', testAccuracyModel: agreement(refPred, d.ytest), testAccuracyCircuit: agreement(sim.predictions, d.ytest),
    predictionAgreement: agreement(refPred, sim.predictions), maxTluInputBits: report.maxTluInputBits, maxBitWidth: report.maxBitWidth,
    ops: circuit.nodes.map((n) => n.op).join(','), potRoundPbs: report.potRoundPbs, clampedLookups: sim.clampedLookups, seconds: (Date.now() - t0) / 1000,
  });
  tf.dispose([x, y, calib, xt, ref]);
  opt.dispose();
  m.dispose();
}

await useBackend('auto', { quiet: true });
const bc = loadTabular('breast_cancer');
const iris = loadTabular('iris');
await estimatorCheck('breast_cancer', bc, {}, quick ? 10 : 60);
await estimatorCheck('iris', iris, {}, quick ? 30 : 200);
await estimatorCheck('breast_cancer_accum12', bc, { module__nAccumBits: 12 }, quick ? 10 : 60);
const mnist = loadMnistSubset();
await estimatorCheck('mnist_mlp', mnist, { module__nHiddenNeurons: 128, batchSize: 64 }, quick ? 2 : 5);
cnnCheck(mnist);
