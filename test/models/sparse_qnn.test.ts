import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { buildSparseQnn, maxActiveNeurons, PruningCallback, topKPerNeuronMask, accumulatorReport } from '../../src/models/index.js';
import { NeuralNetClassifier, NeuralNetRegressor } from '../../src/training/index.js';
import { blobs, linear } from '../training/fixtures.js';

describe('models/maxActiveNeurons', () => {
  it("equals Concrete ML's floor((2^acc-1)/(2^w-1)/(2^a-1))", () => {
    expect(maxActiveNeurons({ nWBits: 4, nABits: 4, nAccumBits: 32 })).to.equal(19088743);
    expect(maxActiveNeurons({ nWBits: 2, nABits: 2, nAccumBits: 16 })).to.equal(7281);
    expect(maxActiveNeurons({ nWBits: 3, nABits: 3, nAccumBits: 12 })).to.equal(83);
  });

  it('throws a ConfigError when the budget is 0', () => {
    expect(() => maxActiveNeurons({ nWBits: 4, nABits: 4, nAccumBits: 7 })).to.throw(ConfigError, /nAccumBits = 7 cannot hold even one product.*nAccumBits >= 8/);
  });
});

describe('models/SparseQuantNeuralNetwork', () => {
  it('builds QuantIdentity -> QuantLinear -> activation -> ... -> QuantLinear with Concrete ML widths and PoT presets', () => {
    const m = buildSparseQnn({ inputDim: 5, inputShape: [5], nOutputs: 3, nLayers: 3, nWBits: 3, nABits: 2, activation: 'tanh' });
    expect(m.layers.map((l) => l.getClassName())).to.deep.equal(
      ['QuantIdentity', 'QuantLinear', 'Univariate', 'QuantIdentity', 'QuantLinear', 'Univariate', 'QuantIdentity', 'QuantLinear']);
    const cfg = m.layers.map((l) => l.getConfig());
    expect(cfg[1]?.['units']).to.equal(20);
    expect(cfg[4]?.['units']).to.equal(20);
    expect(cfg[7]?.['units']).to.equal(3);
    expect(JSON.stringify(cfg[0])).to.match(/PoT/i);
    expect(JSON.stringify(cfg[1])).to.match(/PoT/i);
    expect(cfg[2]?.['fn']).to.equal('tanh');
    m.dispose();
    const flat = buildSparseQnn({ inputDim: 784, inputShape: [28, 28, 1], nOutputs: 10, nLayers: 2, nHiddenNeurons: 16, powerOfTwoScaling: false });
    // image input: quantized first (the circuit's input quantizer), then flattened
    expect(flat.layers.slice(0, 3).map((l) => l.getClassName())).to.deep.equal(['QuantIdentity', 'Flatten', 'QuantLinear']);
    expect(JSON.stringify(flat.layers[0]?.getConfig())).to.not.match(/PoT/i);
    flat.dispose();
  });

  it('validates options', () => {
    expect(() => buildSparseQnn({ inputDim: 2, inputShape: [2], nOutputs: 2 })).to.throw(ConfigError, /nLayers must be an integer.*module__nLayers/);
    expect(() => buildSparseQnn({ inputDim: 2, inputShape: [2], nOutputs: 2, nLayers: 2, activation: 'nope' })).to.throw(ConfigError, /unknown univariate function 'nope'/);
    expect(() => new NeuralNetClassifier({ module__nWbits: 3 })).to.throw(ConfigError, /did you mean module__nWBits/);
  });

  it('topKPerNeuronMask keeps the k largest |w| of every output neuron', () => {
    // kernel [3 in, 2 units]: unit 0 column = [1, -5, 2], unit 1 column = [0.1, 0.2, -0.3]
    const k = Float32Array.from([1, 0.1, -5, 0.2, 2, -0.3]);
    expect(Array.from(topKPerNeuronMask(k, 3, 2, 2))).to.deep.equal([0, 0, 1, 1, 1, 1]);
    expect(Array.from(topKPerNeuronMask(k, 3, 2, 3))).to.deep.equal([1, 1, 1, 1, 1, 1]);
  });

  it('the default classifier prunes EVERY neuron to fan-in <= maxActiveNeurons and reports the accumulator bits', async () => {
    const { X, y } = blobs(80, ['a', 'b']);
    // 4 inputs -> 16 hidden -> 16 hidden -> 2; 3/3 bits, 9-bit accumulator: budget floor(511/49) = 10 < 16
    const clf = new NeuralNetClassifier({ module__nLayers: 3, module__nWBits: 3, module__nABits: 3, module__nAccumBits: 9, maxEpochs: 3, verbose: 0, trainSplit: null });
    expect(clf.callbacks_.length).to.equal(0);
    await clf.fit(X, y);
    expect(clf.callbacks_.map(([n]) => n)).to.include('pruning');
    const report = accumulatorReport(clf.model);
    expect(report.map((r) => r.activeFanIn)).to.satisfy((a: number[]) => a.every((f) => f <= 10));
    expect(report.slice(1).map((r) => r.accumulatorBits)).to.satisfy((a: number[]) => a.every((b) => b <= 9));
    // every column of the pruned kernels has <= 10 non-zero entries
    for (const layer of clf.model.layers.filter((l) => l.getClassName() === 'QuantLinear').slice(1)) {
      const k = layer.getWeights()[0] as tf.Tensor2D;
      const nz = tf.tidy(() => tf.sum(tf.cast(tf.notEqual(k, 0), 'int32'), 0).dataSync());
      expect(Math.max(...Array.from(nz))).to.be.at.most(10);
    }
    const before = tf.memory().numTensors;
    await clf.partialFit(X, y, 2);
    clf.predict(X);
    expect(tf.memory().numTensors, 'no tensor leak across pruned training').to.equal(before);
    clf.dispose();
  });

  it('PruningCallback leaves layers within the budget untouched', async () => {
    const m = buildSparseQnn({ inputDim: 4, inputShape: [4], nOutputs: 2, nLayers: 2 });
    expect(new PruningCallback({ maxActiveNeurons: 100 }).applyMasks(m)).to.deep.equal([]);
    expect(new PruningCallback({ maxActiveNeurons: 3 }).applyMasks(m)).to.have.length(2);
    m.dispose();
  });

  it('saveParams/loadParams restores masks and quantizer state: identical predictions', async () => {
    const { X, y } = blobs(80, [0, 1, 2]);
    const opts = { module__nLayers: 2, module__nWBits: 3, module__nABits: 3, module__nAccumBits: 9, maxEpochs: 2, verbose: 0, batchSize: 16 } as const;
    const a = new NeuralNetClassifier(opts);
    await a.fit(X, y);
    const dir = mkdtempSync(join(tmpdir(), 'tfjs-qat-qnn-'));
    try {
      await a.saveParams(join(dir, 'm'));
      const b = new NeuralNetClassifier(opts);
      await b.loadParams(join(dir, 'm'));
      expect(b.predictProba(X)).to.deep.equal(a.predictProba(X));
      const la = a.model.layers[1] as unknown as { getWeightMask(): tf.Tensor | null };
      const lb = b.model.layers[1] as unknown as { getWeightMask(): tf.Tensor | null };
      expect(Array.from(lb.getWeightMask()?.dataSync() ?? [])).to.deep.equal(Array.from(la.getWeightMask()?.dataSync() ?? []));
      b.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      a.dispose();
    }
  });

  it('prune(X, y, fraction) returns a new, narrower, fine-tuned estimator and leaves the original unchanged', async () => {
    const { X, y } = blobs(80, [0, 1]);
    const clf = new NeuralNetClassifier({ module__nLayers: 3, maxEpochs: 5, batchSize: 16, verbose: 0, trainSplit: null });
    await clf.fit(X, y);
    expect(clf.score(X, y)).to.be.greaterThan(0.8);
    const before = clf.predictProba(X);
    const small = await clf.prune(X, y, 0.5, { maxEpochs: 2 });
    expect(small.getParams()['module__nHiddenNeurons']).to.deep.equal([8, 8]);
    expect(small.model.layers[1]?.getWeights()[0]?.shape).to.deep.equal([4, 8]);
    expect(small.model.layers[4]?.getWeights()[0]?.shape).to.deep.equal([8, 8]);
    expect(small.history.length).to.equal(2);
    expect(clf.predictProba(X)).to.deep.equal(before);
    expect(small.score(X, y)).to.be.greaterThan(0.8);
    clf.dispose();
    small.dispose();
  });

  it('the default regressor uses it too', async () => {
    const { X, y } = linear(100);
    const reg = new NeuralNetRegressor({ module__nLayers: 2, maxEpochs: 20, verbose: 0, trainSplit: null, batchSize: 20, lr: 0.02 });
    await reg.fit(X, y);
    expect(reg.score(X, y)).to.be.greaterThan(0.8);
    reg.dispose();
  });
});

describe('models: SparseQuantNeuralNetwork on image-shaped input', () => {
  it('quantizes the input first, then flattens, so the model exports and simulates with 100% agreement', async () => {
    const X = tf.randomNormal([48, 4, 4, 1], 0, 1, 'float32', 3);
    const xs = X.arraySync() as number[][][][];
    const y = xs.map((im) => ((im[0]?.[0]?.[0] ?? 0) > 0 ? 'a' : 'b'));
    const clf = new NeuralNetClassifier({ module__nLayers: 2, maxEpochs: 2, trainSplit: null, verbose: 0, seed: 1 });
    await clf.fit(X, y);
    expect(clf.model.layers.map((l) => l.getClassName()).slice(0, 2)).to.deep.equal(['QuantIdentity', 'Flatten']);
    clf.compile(X);
    expect(clf.predict(X, { fhe: 'simulate' })).to.deep.equal(clf.predict(X));
    X.dispose();
  });
});
