import { expect } from 'chai';
import { NeuralNetClassifier, NeuralNetRegressor } from '../../src/index.js';
import { NotInitializedError } from '../../src/errors.js';
import { randomFloats } from '../helpers/backends.js';

describe('training: compile + predict({fhe})', () => {
  it('classifier: simulate agrees with the fake-quantized model on every sample', async () => {
    const n = 120;
    const X: number[][] = [];
    const y: string[] = [];
    const r = randomFloats(n * 4, 77, 1);
    for (let i = 0; i < n; i++) {
      const row = r.slice(i * 4, i * 4 + 4);
      X.push(row);
      y.push((row[0] ?? 0) + 0.5 * (row[1] ?? 0) > 0 ? 'pos' : 'neg');
    }
    const clf = new NeuralNetClassifier({ module__nLayers: 2, maxEpochs: 8, batchSize: 16, seed: 3, trainSplit: null, verbose: 0 });
    await clf.fit(X, y);
    expect(() => clf.predict(X, { fhe: 'simulate' })).to.throw(NotInitializedError, /compile/);
    const { report } = clf.compile(X);
    expect(report.maxTluInputBits).to.be.at.most(16);
    const plain = clf.predict(X);
    expect(clf.predict(X, { fhe: 'simulate' })).to.deep.equal(plain);
    expect(clf.predict(X, { fhe: 'disable' })).to.deep.equal(plain);
  });
  it('regressor: simulate equals the model within one output step', async () => {
    const n = 80;
    const r = randomFloats(n * 3, 5, 1);
    const X = Array.from({ length: n }, (_, i) => r.slice(i * 3, i * 3 + 3));
    const y = X.map((row) => 3 * (row[0] ?? 0) - (row[2] ?? 0) + 10);
    const reg = new NeuralNetRegressor({ module__nLayers: 2, maxEpochs: 5, batchSize: 16, seed: 1, trainSplit: null, verbose: 0 });
    await reg.fit(X, y);
    reg.compile(X);
    const a = reg.predict(X) as number[];
    const b = reg.predict(X, { fhe: 'simulate' }) as number[];
    const spread = Math.max(...a) - Math.min(...a);
    a.forEach((v, i) => expect(Math.abs(v - (b[i] ?? NaN))).to.be.below(spread * 0.05 + 1e-3));
  });
});
