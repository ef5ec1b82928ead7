import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  quantIdentity, quantReLU, quantLinear, quantConv2D, quantAvgPool2D, univariate, saveModel, loadModel, checkMixedInteger, QuantIdentity,
} from '../../src/layers/index.js';
import { ModelFileError } from '../../src/errors.js';
import { arr, randomFloats } from '../helpers/backends.js';

async function train(model: tf.LayersModel, x: tf.Tensor, steps = 3): Promise<void> {
  const opt = tf.train.adam(0.01);
  for (let i = 0; i < steps; i++) tf.dispose(opt.minimize(() => tf.mean(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar) ?? []);
  opt.dispose();
}

function layerModels(): Record<string, () => tf.Sequential> {
  return {
    QuantIdentity: () => tf.sequential({ layers: [quantIdentity({ bitWidth: 4, actQuant: 'Int8ActPerTensorPoT', collectStatsSteps: 2, inputShape: [6] })] }),
    QuantReLU: () => tf.sequential({ layers: [quantReLU({ bitWidth: 3, narrowRange: true, inputShape: [6] })] }),
    QuantLinear: () => tf.sequential({ layers: [quantIdentity({ inputShape: [6] }), quantLinear({ units: 4, weightBitWidth: 3, weightQuant: 'Int8WeightPerChannelFloat', biasQuant: 'Int32Bias' })] }),
    QuantConv2D: () => tf.sequential({ layers: [tf.layers.reshape({ targetShape: [3, 2, 1], inputShape: [6] }), quantIdentity({}), quantConv2D({ filters: 2, kernelSize: 2, padding: 1, strides: 2, weightQuant: 'Int8WeightPerTensorPoT', weightBitWidth: 4 })] }),
    QuantAvgPool2D: () => tf.sequential({ layers: [tf.layers.reshape({ targetShape: [2, 3, 1], inputShape: [6] }), quantReLU({ bitWidth: 4 }), quantAvgPool2D({ poolSize: [2, 1], truncMode: 'floor', bitWidth: 6 })] }),
    Univariate: () => tf.sequential({ layers: [quantIdentity({ inputShape: [6] }), univariate({ fn: 'leakyRelu' })] }),
  };
}

describe('layers: serialization round trip', () => {
  let x: tf.Tensor2D;
  before(() => { x = tf.tensor2d(randomFloats(4 * 6, 9, 2), [4, 6]); });
  after(() => x.dispose());
  for (const [name, make] of Object.entries(layerModels())) {
    it(`${name}: toJSON -> modelFromJSON keeps config (enum strings survive case rewriting), weights and quantizer state`, async () => {
      const m = make();
      await train(m, x);
      const json = JSON.parse(JSON.stringify(m.toJSON(undefined, false))) as tf.io.ModelArtifacts['modelTopology'];
      const m2 = await tf.models.modelFromJSON(json as tf.serialization.ConfigDict);
      m2.setWeights(m.getWeights());
      const cfg1 = m.layers.map((l) => l.getConfig());
      const cfg2 = m2.layers.map((l) => l.getConfig());
      expect(cfg2).to.deep.equal(cfg1);
      expect(arr(m2.predict(x) as tf.Tensor)).to.deep.equal(arr(m.predict(x) as tf.Tensor));
    });
  }
  it('saveModel/loadModel writes model.json + weights.bin and restores identical predictions and state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfjsqat-'));
    try {
      const m = layerModels()['QuantLinear']!();
      await train(m, x, 4);
      await saveModel(m, dir);
      expect(existsSync(join(dir, 'model.json')) && existsSync(join(dir, 'weights.bin'))).to.equal(true);
      const m2 = await loadModel(dir);
      expect(arr(m2.predict(x) as tf.Tensor)).to.deep.equal(arr(m.predict(x) as tf.Tensor));
      expect((m2.layers[0] as QuantIdentity).getQuantState()).to.deep.equal((m.layers[0] as QuantIdentity).getQuantState());
      expect(checkMixedInteger(m2)).to.deep.equal([]);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
  it('missing and corrupt files are clear ModelFileErrors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfjsqat-'));
    try {
      let err: unknown;
      try { await loadModel(join(dir, 'nope')); } catch (e) { err = e; }
      expect(err).to.be.instanceOf(ModelFileError);
      expect((err as Error).message).to.match(/no model at .*model\.json does not exist/);
      const m = layerModels()['QuantIdentity']!();
      m.predict(x);
      await saveModel(m, dir);
      const bin = readFileSync(join(dir, 'weights.bin'));
      writeFileSync(join(dir, 'weights.bin'), bin.subarray(0, 4));
      err = undefined;
      try { await loadModel(dir); } catch (e) { err = e; }
      expect((err as Error).message).to.match(/weights\.bin has 4 bytes but model\.json describes 12; the file is truncated/);
      writeFileSync(join(dir, 'model.json'), '{"modelTopology": ');
      err = undefined;
      try { await loadModel(dir); } catch (e) { err = e; }
      expect((err as Error).message).to.match(/model\.json is not valid JSON/);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});

describe('layers: checkMixedInteger', () => {
  it('accepts a mixed-integer MLP and lists each violation with its fix', () => {
    const ok = tf.sequential({ layers: [quantIdentity({ inputShape: [4] }), quantLinear({ units: 3 }), univariate({ fn: 'sigmoid' }), quantIdentity({}), quantLinear({ units: 2 })] });
    expect(checkMixedInteger(ok)).to.deep.equal([]);
    const bad = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4] }), univariate({}), quantLinear({ units: 2 }), tf.layers.reshape({ targetShape: [2, 1, 1] }), tf.layers.maxPooling2d({ poolSize: 1 })] });
    const v = checkMixedInteger(bad);
    expect(v).to.have.length(4);
    expect(v[0]).to.match(/'dense_\w+' \(Dense\) is the first layer.*add quantIdentity/);
    expect(v[1]).to.match(/float Dense.*use QuantLinear/);
    expect(v[2]).to.match(/takes a float input: put a QuantIdentity/);
    expect(v[3]).to.match(/float MaxPooling2D.*QuantAvgPool2D/);
  });
});

describe('layers: checkMixedInteger with shape-only layers first', () => {
  it('a Flatten before the first QuantIdentity is allowed (the input quantizer runs in the clear)', () => {
    const m = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [2, 3] }), quantIdentity({}), quantLinear({ units: 2 })] });
    expect(checkMixedInteger(m)).to.deep.equal([]);
  });
});
