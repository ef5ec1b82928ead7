// compileEstimator / predictWithFhe on the training helper's estimators.
import { expect } from 'chai';
import { NotInitializedError, ConfigError } from '../../src/errors.js';
import { compileEstimator, predictWithFhe } from '../../src/export/estimator_fhe.js';
import { NeuralNetClassifier, NeuralNetRegressor } from '../../src/training/index.js';
import { blobs } from './helpers.js';

describe('export/estimator FHE integration', function () {
  this.timeout(120000);

  it('classifier: simulate and disable give the model labels', async () => {
    const d = blobs(160, 5, 3);
    const labels = d.y.map((v) => ['a', 'b', 'c'][v] as string);
    const clf = new NeuralNetClassifier({ module__nLayers: 2, module__nHiddenNeurons: 8, maxEpochs: 5, trainSplit: null, verbose: 0, seed: 1 });
    await clf.fit(d.x, labels);
    expect(() => predictWithFhe(clf, d.x, { fhe: 'simulate' })).to.throw(NotInitializedError, /compile/);
    const { report } = compileEstimator(clf, d.x);
    expect(report.agreement?.predictionAgreement).to.equal(1);
    const clear = clf.predict(d.x);
    expect(predictWithFhe(clf, d.x, { fhe: 'simulate' })).to.deep.equal(clear);
    expect(predictWithFhe(clf, d.x, { fhe: 'disable' })).to.deep.equal(clear);
    expect(() => predictWithFhe(clf, d.x, { fhe: 'execute' as 'simulate' })).to.throw(ConfigError, /fhe must be 'disable' or 'simulate'/);
    clf.dispose();
  });

  it('regressor: values in the original units, close to the model', async () => {
    const d = blobs(120, 4, 2);
    const y = d.x.map((r) => 10 + 5 * (r[0] ?? 0));
    const reg = new NeuralNetRegressor({ module__nLayers: 2, module__nHiddenNeurons: 8, maxEpochs: 5, trainSplit: null, verbose: 0, seed: 1 });
    await reg.fit(d.x, y);
    compileEstimator(reg, d.x);
    const clear = reg.predict(d.x) as number[];
    const sim = predictWithFhe(reg, d.x, { fhe: 'simulate' }) as number[];
    const std = reg.targetStd_?.[0] ?? 1;
    sim.forEach((v, i) => expect(Math.abs(v - (clear[i] as number))).to.be.below(0.01 * std + 1e-6));
    reg.dispose();
  });
});
