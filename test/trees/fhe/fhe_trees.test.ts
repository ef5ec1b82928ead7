import { expect } from 'chai';
import { RandomForestClassifier as MlRf } from 'ml-random-forest';
import { loadSplitDataset } from '../../../scripts/fixtures/datasets.js';
import { ConfigError, DataError, NotInitializedError, AccumulatorOverflowError } from '../../../src/errors.js';
import {
  DecisionTreeClassifier, DecisionTreeRegressor, FeatureQuantizer, RandomForestClassifier, RandomForestRegressor,
  XGBClassifier, XGBRegressor, quantizeEnsemble, signedBits, treeToIntegerProgram, runIntegerProgram,
} from '../../../src/trees/fhe/index.js';
import { createTreeEnsemble } from '../../../src/trees/tree_ir.js';

const acc = (p: number[], y: number[]): number => p.filter((v, i) => v === y[i]).length / y.length;

describe('trees/fhe: quantized tree estimators (Concrete ML style)', function () {
  const iris = loadSplitDataset('iris');

  it('FeatureQuantizer maps training min/max to 0 and 2^n-1 and clips unseen values', () => {
    const q = FeatureQuantizer.fit([[0, 5], [6.3, 5]], 6);
    expect(q.quantize([[0, 5], [6.3, 5], [3.15, 5], [-1, 9], [99, 5]])).to.deep.equal([[0, 0], [63, 0], [32, 0], [0, 4], [63, 0]]);
    expect(() => q.quantize([[1]])).to.throw(DataError, /row 0 must hold 2 finite numbers/);
  });

  it('integer thresholds: ceil for <, floor for <=, clamped to the input range', () => {
    const mk = (rule: '<' | '<=') => createTreeEnsemble({ kind: 'regressor', nFeatures: 1, nClasses: 1, nOutputs: 1, aggregation: 'sum', splitRule: rule,
      trees: [{ lefts: [1, -1, 3, -1, -1], rights: [2, -1, 4, -1, -1], features: [0, -1, 0, -1, -1], thresholds: [2.5, 0, 99, 0, 0], values: [[0], [-1], [0], [0.5], [1]] }] });
    const lt = quantizeEnsemble(mk('<'), { inputBits: 6, leafBits: 6 });
    expect(lt.ensemble.trees[0]!.thresholds).to.deep.equal([3, 0, 64, 0, 0]);
    const le = quantizeEnsemble(mk('<='), { inputBits: 6, leafBits: 6 });
    expect(le.ensemble.trees[0]!.thresholds).to.deep.equal([2, 0, 63, 0, 0]);
    // Leaves: symmetric signed 6-bit, zero point 0: scale = 1/31.
    expect(lt.leafScale).to.be.closeTo(1 / 31, 1e-12);
    expect(lt.ensemble.trees[0]!.values.map((v) => v[0])).to.deep.equal([0, -31, 0, 16, 31]);
    // The integer program equals traversal on every input value, and its lookups are 7 and 2 bits.
    const prog = treeToIntegerProgram(lt);
    const xs = Array.from({ length: 64 }, (_, i) => [i]);
    expect(runIntegerProgram(prog, xs).map((r) => r[0])).to.deep.equal(xs.map(([x]) => (x! < 3 ? -31 : 16)));
    expect(prog.report.stages.filter((s) => s.op === 'lut').map((s) => s.bits)).to.deep.equal([7, 3]);
    expect(signedBits({ min: -64, max: 63 })).to.equal(7);
    expect(signedBits({ min: -2, max: 0 })).to.equal(2);
  });

  it('a 6-bit random forest on iris: program == quantized model on every sample, TLU <= 8 bits, accuracy near the float forest', () => {
    const m = new RandomForestClassifier({ nEstimators: 20, maxDepth: 4, seed: 1 }).fit(iris.xTrain, iris.yTrain);
    const prog = m.compile();
    expect(prog.report.maxTluInputBits).to.be.at.most(8);
    expect(prog.report.maxTluInputBits).to.equal(7);
    const all = [...iris.xTrain, ...iris.xTest];
    expect(m.integerOutputs(all, { fhe: 'simulate' })).to.deep.equal(m.integerOutputs(all));
    expect(m.predict(all, { fhe: 'simulate' })).to.deep.equal(m.predict(all));
    const float = new MlRf({ nEstimators: 20, seed: 1, noOOB: true, treeOptions: { maxDepth: 4 } });
    float.train(iris.xTrain, iris.yTrain);
    expect(acc(m.predict(iris.xTest), iris.yTest)).to.be.at.least(acc(float.predict(iris.xTest), iris.yTest) - 0.06);
    const p = m.predictProba(iris.xTest);
    p.forEach((r) => expect(r.reduce((a, b) => a + b, 0)).to.be.closeTo(1, 1e-6));
  });

  it('decision tree and boosting classifiers, and the three regressors, simulate exactly', () => {
    const dt = new DecisionTreeClassifier({ maxDepth: 4, nBits: 5 }).fit(iris.xTrain, iris.yTrain);
    dt.compile();
    expect(dt.predict(iris.xTest, { fhe: 'simulate' })).to.deep.equal(dt.predict(iris.xTest));
    expect(acc(dt.predict(iris.xTest), iris.yTest)).to.be.above(0.85);
    const xgb = new XGBClassifier({ nEstimators: 8, maxDepth: 2 }).fit(iris.xTrain, iris.yTrain);
    xgb.compile();
    expect(xgb.predictProba(iris.xTest, { fhe: 'simulate' })).to.deep.equal(xgb.predictProba(iris.xTest));
    expect(acc(xgb.predict(iris.xTest), iris.yTest)).to.be.above(0.85);
    const bin = iris.yTrain.map((v) => (v === 2 ? 1 : 0));
    const xb = new XGBClassifier({ nEstimators: 5, maxDepth: 2 }).fit(iris.xTrain, bin);
    xb.compile();
    expect(xb.predict(iris.xTest, { fhe: 'simulate' })).to.deep.equal(xb.predict(iris.xTest));
    const diab = loadSplitDataset('diabetes');
    const xs = diab.xTrain.slice(0, 150), ys = diab.yTrain.slice(0, 150);
    for (const reg of [new DecisionTreeRegressor({ maxDepth: 3 }), new RandomForestRegressor({ nEstimators: 4, maxDepth: 3 }), new XGBRegressor({ nEstimators: 4, maxDepth: 2 })]) {
      reg.fit(xs, ys);
      const prog = reg.compile();
      expect(prog.report.maxTluInputBits).to.be.at.most(8);
      expect(reg.predict(diab.xTest, { fhe: 'simulate' })).to.deep.equal(reg.predict(diab.xTest));
      const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
      const mse = (p: number[]): number => p.reduce((s, v, i) => s + (v - diab.yTest[i]!) ** 2, 0) / p.length;
      expect(mse(reg.predict(diab.xTest))).to.be.below(mse(diab.yTest.map(() => mean)));
    }
  });

  it('errors: not fitted, bad options, bad fhe mode, too-narrow TLU limit', () => {
    const m = new DecisionTreeClassifier();
    expect(() => m.predict([[1, 2, 3, 4]])).to.throw(NotInitializedError, /not fitted; call fit/);
    expect(() => new RandomForestClassifier({ nBits: 0 })).to.throw(ConfigError, /nBits must be an integer in \[1, 16\], received 0/);
    expect(() => new RandomForestClassifier({ nEstimators: 2.5 })).to.throw(ConfigError, /nEstimators.*2.5/);
    expect(() => new XGBClassifier({ learningRate: 2 })).to.throw(ConfigError, /learningRate.*2/);
    m.fit(iris.xTrain, iris.yTrain);
    expect(() => m.predict(iris.xTest, { fhe: 'simulate' })).to.throw(NotInitializedError, /call compile\(\)/);
    expect(() => m.predict(iris.xTest, { fhe: 'execute' as never })).to.throw(ConfigError, /fhe must be 'disable' or 'simulate'/);
    expect(() => m.fit(iris.xTrain, iris.yTrain.slice(1))).to.throw(DataError, /y must hold 112/);
    expect(() => new DecisionTreeClassifier({ maxTluBits: 4 }).fit(iris.xTrain, iris.yTrain).compile()).to.throw(AccumulatorOverflowError, /needs 7 bits.*above the limit 4/);
  });
});
