// Circuit vs fake-quantized tfjs model (eval mode): 100% identical predictions, outputs within one output step.
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { exportCircuit, type ExportCircuitOptions } from '../../src/export/to_circuit.js';
import { parseCircuit } from '../../src/export/circuit_schema.js';
import { simulateCircuit } from '../../src/export/simulate.js';
import { quantIdentity, quantLinear } from '../../src/layers/index.js';
import { blobs, buildCnn, buildMlp, modelOutputs, trainBriefly, type MlpSpec } from './helpers.js';

/** Export on the train rows, compare on held-out rows. Returns the export result. */
function checkAgreement(model: tf.LayersModel, xTrain: number[][] | tf.Tensor, xTest: number[][] | tf.Tensor, opts: ExportCircuitOptions = {}): ReturnType<typeof exportCircuit> {
  const before = tf.memory().numTensors;
  const res = exportCircuit(model, xTrain, opts);
  expect(tf.memory().numTensors).to.equal(before, 'exportCircuit leaks tensors');
  const xt = xTest instanceof tf.Tensor ? xTest : tf.tensor2d(xTest);
  const ref = modelOutputs(model, xt);
  const sim = simulateCircuit(parseCircuit(JSON.parse(JSON.stringify(res.circuit))), xt);
  const n = sim.n;
  const size = sim.outputSize;
  const sc = res.circuit.output.scale;
  let agree = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let e = 1; e < size; e++) if ((ref[i * size + e] as number) > (ref[i * size + best] as number)) best = e;
    if (size === 1 ? Math.round(ref[i] as number) === Math.round(sim.predictions[i] as number) : best === sim.predictions[i]) agree++;
    for (let e = 0; e < size; e++) {
      const d = Math.abs((sim.outputs[i * size + e] as number) - (ref[i * size + e] as number));
      expect(d).to.be.at.most((sc[e % sc.length] as number) + 1e-6, `sample ${i} output ${e}`);
    }
  }
  expect(agree).to.equal(n, 'prediction agreement');
  if (res.circuit.output.post === 'none' && opts.roundingThresholdBits === undefined) {
    // the model's inference is integer-exact (src/layers/exact_eval.ts): the very same float32 outputs as the circuit
    let differ = 0;
    for (let i = 0; i < n * size; i++) if (sim.outputs[i] !== ref[i]) differ++;
    expect(differ, 'outputs that differ from the circuit').to.equal(0);
  }
  if (!(xTest instanceof tf.Tensor)) xt.dispose();
  expect(res.report.agreement?.predictionAgreement).to.equal(1);
  return res;
}

function trainedMlp(spec: MlpSpec, steps = 40): { model: tf.Sequential; xTrain: number[][]; xTest: number[][] } {
  const d = blobs(400, spec.inputDim, spec.nOutputs);
  const xTrain = d.x.slice(0, 300);
  const model = buildMlp(spec);
  const x = tf.tensor2d(xTrain);
  const y = tf.oneHot(tf.tensor1d(d.y.slice(0, 300), 'int32'), spec.nOutputs).toFloat();
  trainBriefly(model, x, y, steps);
  tf.dispose([x, y]);
  return { model, xTrain, xTest: d.x.slice(300) };
}

describe('export/agreement with the tfjs model', function () {
  this.timeout(120000);

  it('float preset MLP (float bias, per-channel tables)', () => {
    const { model, xTrain, xTest } = trainedMlp({ inputDim: 8, hidden: [16, 12], nOutputs: 3 });
    const { report, circuit } = checkAgreement(model, xTrain, xTest);
    const tlus = circuit.nodes.filter((n) => n.op === 'tlu');
    expect(tlus).to.have.length(2);
    expect(report.nodes.find((n) => n.op === 'tlu')?.tluInput?.tables).to.equal(16);
    expect(report.potRoundPbs).to.deep.equal([]);
    expect(circuit.output.offset).to.have.length(3);
    model.dispose();
  });

  it('PoT preset MLP with Int32Bias: the rescale is an exact shift', () => {
    const { model, xTrain, xTest } = trainedMlp({ inputDim: 8, hidden: [16, 16], nOutputs: 3, pot: true });
    const { report, circuit } = checkAgreement(model, xTrain, xTest);
    expect(report.potRoundPbs).to.have.length(2);
    for (const p of report.potRoundPbs) expect(p.shift).to.be.greaterThan(0);
    const tlu = report.nodes.find((n) => n.op === 'tlu');
    expect(tlu?.pot).to.equal(true);
    expect(tlu?.tluInput?.tables).to.equal(1);
    expect(report.maxTluInputBits).to.be.at.most(8);
    const gemm = circuit.nodes.find((n) => n.op === 'gemm');
    expect(gemm?.op === 'gemm' && gemm.bias !== null).to.equal(true);
    model.dispose();
  });

  it('Int32Bias with float scales, per-channel weights and sigmoid', () => {
    for (const spec of [
      { inputDim: 6, hidden: [10], nOutputs: 3, bias: 'Int32Bias' as const },
      { inputDim: 6, hidden: [10], nOutputs: 3, weightQuant: 'Int8WeightPerChannelFloat' as const },
      { inputDim: 6, hidden: [10, 8], nOutputs: 3, activation: 'sigmoid' },
      { inputDim: 6, hidden: [10], nOutputs: 3, wBits: 3, aBits: 3, activation: 'gelu' },
    ]) {
      const { model, xTrain, xTest } = trainedMlp(spec, 30);
      checkAgreement(model, xTrain, xTest);
      model.dispose();
    }
  });

  it('batch norm, tanh activation layer, dropout and a softmax output in the clear', () => {
    const m = tf.sequential();
    m.add(quantIdentity({ inputShape: [6], bitWidth: 4, collectStatsSteps: 5 }));
    m.add(quantLinear({ units: 10, weightBitWidth: 4, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }));
    m.add(tf.layers.batchNormalization());
    m.add(tf.layers.activation({ activation: 'tanh' }));
    m.add(tf.layers.dropout({ rate: 0.2 }));
    m.add(quantIdentity({ bitWidth: 4, collectStatsSteps: 5 }));
    m.add(quantLinear({ units: 3, weightBitWidth: 4, kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }));
    m.add(tf.layers.activation({ activation: 'softmax' }));
    const d = blobs(300, 6, 3);
    const x = tf.tensor2d(d.x.slice(0, 200));
    const y = tf.oneHot(tf.tensor1d(d.y.slice(0, 200), 'int32'), 3).toFloat();
    trainBriefly(m, x, y, 30);
    const { circuit } = checkAgreement(m, d.x.slice(0, 200), d.x.slice(200));
    expect(circuit.output.post).to.equal('softmax');
    tf.dispose([x, y]);
    m.dispose();
  });

  it('regression output (one unit)', () => {
    const d = blobs(200, 5, 2);
    const m = buildMlp({ inputDim: 5, hidden: [8], nOutputs: 1 });
    const x = tf.tensor2d(d.x);
    const y = tf.tensor2d(d.y.map((v) => [v * 3]));
    trainBriefly(m, x, y, 30, 0.01, 'regression');
    const { circuit } = checkAgreement(m, d.x.slice(0, 150), d.x.slice(150));
    expect(circuit.output.task).to.equal('regression');
    tf.dispose([x, y]);
    m.dispose();
  });

  it('small CNN with QuantConv2D (padding 1 and same, stride 2) and QuantAvgPool2D', () => {
    const n = 160;
    const xs = tf.tidy(() => tf.add(tf.randomUniform([n, 12, 12, 1], 0, 1, 'float32', 7), tf.mul(tf.reshape(tf.range(0, n), [n, 1, 1, 1]).mod(3), 0.5)));
    const ys = tf.oneHot(tf.tensor1d(Array.from({ length: n }, (_, i) => i % 3), 'int32'), 3).toFloat();
    const cnn = buildCnn([12, 12, 1], 3);
    trainBriefly(cnn, xs, ys, 15);
    const xTrain = tf.slice(xs, 0, 120);
    const xTest = tf.slice(xs, 120, 40);
    const { circuit, report } = checkAgreement(cnn, xTrain, xTest);
    expect(circuit.nodes.map((nd) => nd.op)).to.deep.equal(['conv2d', 'tlu', 'sumPool', 'tlu', 'conv2d', 'tlu', 'reshape', 'gemm']);
    const pool = report.nodes.find((nd) => nd.op === 'sumPool');
    expect(pool?.range.min).to.be.at.least(0);
    tf.dispose([xs, ys, xTrain, xTest]);
    cnn.dispose();
  });
});
