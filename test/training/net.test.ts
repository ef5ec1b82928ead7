import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { mkdtempSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NeuralNet, NeuralNetClassifier, NeuralNetRegressor, type EpochRecord } from '../../src/training/index.js';
import { blobs, denseMlp, linear } from './fixtures.js';

const strip = (h: EpochRecord[]): unknown => h.map(({ dur, ...rest }) => { void dur; return rest; });

describe('training/NeuralNetClassifier', () => {
  const { X, y } = blobs(240, ['cat', 'dog', 'emu']);

  it('learns string labels, returns them from predict, and records the history', async () => {
    const clf = new NeuralNetClassifier({ module: denseMlp, maxEpochs: 25, verbose: 0, seed: 3 });
    await clf.fit(X, y);
    expect(clf.classes_).to.deep.equal(['cat', 'dog', 'emu']);
    const pred = clf.predict(X);
    expect(new Set(pred)).to.deep.equal(new Set(['cat', 'dog', 'emu']));
    expect(clf.score(X, y)).to.be.greaterThan(0.9);
    const h = clf.history;
    expect(h.length).to.equal(25);
    const last = h.last();
    for (const k of ['trainLoss', 'validLoss', 'validAcc', 'dur']) expect(last?.[k], k).to.be.a('number');
    // {cv: 5} stratified: 48 validation rows, 192 training rows = 2 batches of 128 + 64
    expect(last?.batches.length).to.equal(2);
    expect(last?.batches.map((b) => b['trainBatchSize'])).to.deep.equal([128, 64]);
    expect(h.column('trainLoss')[24]).to.be.lessThan(h.column('trainLoss')[0] as number);
    const proba = clf.predictProba(X.slice(0, 3));
    expect(proba).to.have.length(3);
    for (const row of proba) expect(row.reduce((a, b) => a + b, 0)).to.be.closeTo(1, 1e-5);
    clf.dispose();
  });

  it('is reproducible: the same seed gives identical history and predictions (with dropout); another seed differs', async () => {
    const run = async (seed: number): Promise<{ h: unknown; p: number[][] }> => {
      const clf = new NeuralNetClassifier({ module: denseMlp, module__dropout: true, maxEpochs: 4, verbose: 0, seed, batchSize: 32 });
      await clf.fit(X, y);
      const out = { h: strip(clf.history.toJSON()), p: clf.predictProba(X) };
      clf.dispose();
      return out;
    };
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    expect(b.h).to.deep.equal(a.h);
    expect(b.p).to.deep.equal(a.p);
    expect(c.p).to.not.deep.equal(a.p);
  });

  it('accepts number[][], {data, shape} and tf.Tensor2D with identical predictions', async () => {
    const clf = new NeuralNetClassifier({ module: denseMlp, maxEpochs: 2, verbose: 0, trainSplit: null });
    await clf.fit(X, y);
    const flat = { data: Float32Array.from(X.flat()), shape: [X.length, 4] };
    const t = tf.tensor2d(X);
    expect(clf.predict(flat)).to.deep.equal(clf.predict(X));
    expect(clf.predict(t)).to.deep.equal(clf.predict(X));
    t.dispose();
    clf.dispose();
  });

  it('saveParams/loadParams: a new estimator predicts identically and continues with the same optimizer state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfjs-qat-params-'));
    try {
      const opts = { module: denseMlp, maxEpochs: 3, verbose: 0, trainSplit: null, batchSize: -1 } as const;
      const a = new NeuralNetClassifier(opts);
      await a.fit(X, y);
      await a.saveParams(join(dir, 'm'));
      const b = new NeuralNetClassifier(opts);
      await b.loadParams(join(dir, 'm'));
      expect(b.predictProba(X)).to.deep.equal(a.predictProba(X));
      expect(b.classes_).to.deep.equal(a.classes_);
      expect(strip(b.history.toJSON())).to.deep.equal(strip(a.history.toJSON()));
      await a.partialFit(X, y, 2);
      await b.partialFit(X, y, 2);
      expect(b.predictProba(X)).to.deep.equal(a.predictProba(X));
      await a.saveParams(join(dir, 'm')); // overwrite in place
      expect(existsSync(join(dir, 'm', 'weights.bin'))).to.equal(true);
      a.dispose();
      b.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('clone copies parameters but not fitted state', async () => {
    const clf = new NeuralNetClassifier({ module: denseMlp, maxEpochs: 1, verbose: 0, module__hidden: 5, lr: 0.02 });
    await clf.fit(X, y);
    const c = clf.clone();
    expect(c.getParams()).to.deep.equal(clf.getParams());
    expect(c.initialized_).to.equal(false);
    expect(() => c.predict(X)).to.throw(/not initialized yet.*call fit/);
    clf.dispose();
  });

  it('does not leak tensors across fit, predict and score', async () => {
    const clf = new NeuralNetClassifier({ module: denseMlp, maxEpochs: 2, verbose: 0 });
    await clf.fit(X, y);
    const before = tf.memory().numTensors;
    await clf.partialFit(X, y, 2);
    clf.predict(X);
    clf.predictProba(X);
    clf.score(X, y);
    expect(tf.memory().numTensors).to.equal(before);
    clf.dispose();
  });
});

describe('training/NeuralNetRegressor', () => {
  it('fits a linear target (standardized internally) and scores R^2 in original units', async () => {
    const { X, y } = linear(200);
    const reg = new NeuralNetRegressor({ module: denseMlp, maxEpochs: 40, verbose: 0, trainSplit: null, seed: 1 });
    await reg.fit(X, y);
    expect(reg.score(X, y)).to.be.greaterThan(0.95);
    const p = reg.predict(X.slice(0, 2)) as number[];
    expect(p[0]).to.be.closeTo(y[0] as number, 1);
    reg.dispose();
  });
});

describe('training/NeuralNet', () => {
  it('requires a module', async () => {
    const net = new NeuralNet({ verbose: 0 });
    let err: unknown;
    try { await net.fit([[1], [2]], [1, 2]); } catch (e) { err = e; }
    expect(String(err)).to.match(/NeuralNet needs a module/);
  });
});
