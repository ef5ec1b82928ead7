// QCDQ exports run in onnxruntime-node and equal the tfjs model in inference mode.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { exportOnnx } from '../../../src/export/onnx/index.js';
import { makeData, makeMlp, makeCnn, train, runOrt, compare, nhwcToNchw, type MlpVariant, type CnnVariant } from './fixtures.js';

const REL = 1e-5;

async function checkMlp(v: MlpVariant, seed: string): Promise<void> {
  const train_ = makeData(512, [8], 3, `${seed}-train`);
  const test = makeData(400, [8], 3, `${seed}-test`);
  const model = makeMlp(8, 3, v);
  train(model, train_.x, train_.y, 25);
  const before = tf.memory().numTensors;
  const bytes = exportOnnx(model, { format: 'qcdq' });
  expect(tf.memory().numTensors).to.equal(before);
  const ref = tf.tidy(() => model.predict(test.x) as tf.Tensor);
  const want = ref.dataSync() as Float32Array;
  const got = (await runOrt(bytes, { input: { data: test.x.dataSync() as Float32Array, dims: [400, 8] } }))['output'];
  expect(got).to.not.equal(undefined);
  const { maxRel, argmaxDiff } = compare(got ?? new Float32Array(), want, 3);
  expect(maxRel, 'max relative difference').to.be.below(REL);
  expect(argmaxDiff, 'argmax differences').to.equal(0);
  tf.dispose([train_.x, train_.y, test.x, test.y, ref]);
  model.dispose();
}

async function checkCnn(v: CnnVariant, seed: string, layout: 'nchw' | 'nhwc' = 'nchw'): Promise<void> {
  const hw = 10;
  const train_ = makeData(256, [hw, hw, 2], 3, `${seed}-train`);
  const test = makeData(200, [hw, hw, 2], 3, `${seed}-test`);
  const model = makeCnn(hw, 2, 3, v);
  train(model, train_.x, train_.y, 15, 32);
  const before = tf.memory().numTensors;
  const bytes = exportOnnx(model, { format: 'qcdq', inputLayout: layout });
  expect(tf.memory().numTensors).to.equal(before);
  const ref = tf.tidy(() => model.predict(test.x) as tf.Tensor);
  const want = ref.dataSync() as Float32Array;
  const nhwc = test.x.dataSync() as Float32Array;
  const input = layout === 'nchw' ? { data: nhwcToNchw(nhwc, [200, hw, hw, 2]), dims: [200, 2, hw, hw] } : { data: nhwc, dims: [200, hw, hw, 2] };
  const got = (await runOrt(bytes, { input }))['output'] ?? new Float32Array();
  const { maxRel, argmaxDiff } = compare(got, want, 3);
  expect(maxRel, 'max relative difference').to.be.below(REL);
  expect(argmaxDiff, 'argmax differences').to.equal(0);
  tf.dispose([train_.x, train_.y, test.x, test.y, ref]);
  model.dispose();
}

describe('export/onnx QCDQ in onnxruntime', () => {
  it('MLP (8b in, w4, relu, 4b, w8) equals tfjs', async () => checkMlp({}, 'mlp'));
  it('MLP with Int32Bias equals tfjs', async () => checkMlp({ biasQuant: 'Int32Bias' }, 'mlp-b'));
  it('MLP with per-channel weights and Int32Bias equals tfjs', async () => checkMlp({ weightQuant: 'Int8WeightPerChannelFloat', biasQuant: 'Int32Bias' }, 'mlp-pc'));
  it('MLP with power-of-two presets equals tfjs', async () => checkMlp({ actQuant: 'pot' }, 'mlp-pot'));
  it('MLP with a 12-bit input quantizer (float QCDQ form) and sigmoid equals tfjs', async () => checkMlp({ inBits: 12, hiddenAct: 'sigmoid' }, 'mlp-12'));
  it('CNN (same s1, valid s2, avg pool round) equals tfjs', async () => checkCnn({}, 'cnn'));
  it('CNN (same s2 asymmetric pad, pad 1, floor pool, per-channel, Int32Bias, NHWC input) equals tfjs', async () =>
    checkCnn({ pad1: 'same', stride1: 2, pad2: 1, stride2: 1, truncMode: 'floor', weightQuant: 'Int8WeightPerChannelFloat', biasQuant: 'Int32Bias', reluBits: 3 }, 'cnn2', 'nhwc'));
});
