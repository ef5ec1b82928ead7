import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { DecisionTreeClassifier, DecisionTreeRegression } from 'ml-cart';
import { RandomForestClassifier, RandomForestRegression } from 'ml-random-forest';
import { loadSplitDataset } from '../../scripts/fixtures/datasets.js';
import { convertTrees } from '../../src/trees/tensor/convert_trees.js';
import type { TreeStrategy } from '../../src/trees/tensor/strategy.js';

const STRATEGIES: TreeStrategy[] = ['gemm', 'treeTraversal', 'perfectTreeTraversal'];

/** ml-cart's own class distribution of one row (what `predict` takes the argmax of). */
function cartProba(dt: DecisionTreeClassifier, row: number[], nClasses: number): number[] {
  interface N { left?: N; right?: N; splitColumn: number; splitValue: number; distribution: { to2DArray(): number[][] } }
  let n = dt.root as N;
  while (n.left && n.right) n = (row[n.splitColumn] as number) < n.splitValue ? n.left : n.right;
  const d = (n.distribution.to2DArray()[0] ?? []);
  return [...d, ...new Array<number>(nClasses - d.length).fill(0)];
}

function maxAbsDiff(a: number[][], b: number[][]): number {
  let m = 0;
  a.forEach((r, i) => r.forEach((v, j) => { m = Math.max(m, Math.abs(v - ((b[i] as number[])[j] as number))); }));
  return m;
}

describe('trees: ml-cart / ml-random-forest parity', function () {
  const bc = loadSplitDataset('breast_cancer');
  const iris = loadSplitDataset('iris');
  const diab = loadSplitDataset('diabetes');

  for (const [name, ds, nClasses] of [['iris', iris, 3], ['breast_cancer', bc, 2]] as const) {
    const dt = new DecisionTreeClassifier({ maxDepth: 5 });
    dt.train(ds.xTrain, ds.yTrain);
    const X = [...ds.xTrain, ...ds.xTest];
    const want = dt.predict(X);
    const wantProba = X.map((r) => cartProba(dt, r, nClasses));
    for (const strategy of STRATEGIES) {
      for (const form of ['live', 'json'] as const) {
        it(`${name} DecisionTreeClassifier (${form}) with ${strategy}: classes identical, probabilities within 1e-6`, () => {
          const before = tf.memory().numTensors;
          const m = convertTrees(form === 'live' ? dt : JSON.parse(JSON.stringify(dt.toJSON())), { strategy, nFeatures: ds.xTrain[0]!.length });
          const cls = m.predict(X);
          const proba = m.predictProba(X);
          expect(Array.from(cls.dataSync())).to.deep.equal(want);
          expect(maxAbsDiff(proba.arraySync(), wantProba)).to.be.below(1e-6);
          tf.dispose([cls, proba]);
          m.dispose();
          expect(tf.memory().numTensors).to.equal(before);
        });
      }
    }
  }

  for (const [name, ds, nClasses] of [['iris', iris, 3], ['breast_cancer', bc, 2]] as const) {
    const rf = new RandomForestClassifier({ nEstimators: 15, seed: 3, maxFeatures: 0.8, treeOptions: { maxDepth: 6 }, noOOB: true });
    rf.train(ds.xTrain, ds.yTrain);
    const X = [...ds.xTrain, ...ds.xTest];
    const want = rf.predict(X);
    // Vote fractions computed from the library's per-tree predictions (its predictProbability drops the first tree's vote, see docs/trees.md).
    const votes = rf.predictionValues(X).to2DArray();
    const wantProba = votes.map((v) => Array.from({ length: nClasses }, (_, c) => v.filter((p) => p === c).length / v.length));
    for (const strategy of STRATEGIES) {
      it(`${name} RandomForestClassifier with ${strategy}: classes identical (mode tie-break), vote fractions within 1e-6`, () => {
        const m = convertTrees(rf, { strategy, nFeatures: ds.xTrain[0]!.length });
        const cls = m.predict(X);
        const proba = m.predictProba(X);
        expect(Array.from(cls.dataSync())).to.deep.equal(want);
        expect(maxAbsDiff(proba.arraySync(), wantProba)).to.be.below(1e-6);
        tf.dispose([cls, proba]);
        m.dispose();
      });
    }
  }

  it('diabetes DecisionTreeRegression and RandomForestRegression: values equal the library (relative 1e-6) for every strategy', () => {
    const dt = new DecisionTreeRegression({ maxDepth: 6 });
    dt.train(diab.xTrain, diab.yTrain);
    const rf = new RandomForestRegression({ nEstimators: 10, seed: 1, maxFeatures: 0.7, treeOptions: { maxDepth: 5 }, noOOB: true });
    rf.train(diab.xTrain, diab.yTrain);
    const X = [...diab.xTrain, ...diab.xTest];
    for (const model of [dt, rf, JSON.parse(JSON.stringify(rf.toJSON())) as unknown]) {
      const want = (model === dt ? dt : rf).predict(X);
      for (const strategy of STRATEGIES) {
        const m = convertTrees(model, { strategy, nFeatures: 10 });
        const got = m.predict(X);
        const g = Array.from(got.dataSync());
        g.forEach((v, i) => expect(Math.abs(v - (want[i] as number))).to.be.below(1e-6 * Math.abs(want[i] as number) + 1e-9));
        got.dispose();
        m.dispose();
      }
    }
  });
});
