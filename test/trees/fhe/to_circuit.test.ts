import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSplitDataset } from '../../../scripts/fixtures/datasets.js';
import { AccumulatorOverflowError, ConfigError, ModelFileError } from '../../../src/errors.js';
import { parseCircuit } from '../../../src/export/circuit_schema.js';
import { simulateCircuit } from '../../../src/export/simulate.js';
import {
  DecisionTreeClassifier, DecisionTreeRegressor, RandomForestClassifier, RandomForestRegressor, XGBClassifier, XGBRegressor,
  loadTreeEstimator, quantizeEnsemble, simulateTreeCircuit, treeToCircuit, type FheTreeEstimator, type TreeCircuit,
} from '../../../src/trees/fhe/index.js';
import { createTreeEnsemble } from '../../../src/trees/tree_ir.js';

/** Integer outputs, probabilities and predictions of the circuit equal the quantized model on every row. */
function expectAgreement(m: FheTreeEstimator, circuit: TreeCircuit, x: number[][]): void {
  const parsed = parseCircuit(JSON.parse(JSON.stringify(circuit)));
  const sim = simulateCircuit(parsed, m.quantizer_!.normalize(x));
  expect(sim.clampedLookups).to.equal(0);
  expect(simulateTreeCircuit(circuit, m.quantizer_!.normalize(x)).outputs).to.deep.equal(m.integerOutputs(x));
  if (m.kind === 'classifier') {
    expect(sim.predictions.map((c) => m.classes_![c])).to.deep.equal(m.predict(x));
    const proba = Array.from({ length: sim.n }, (_, i) => Array.from(sim.outputs.subarray(i * sim.outputSize, (i + 1) * sim.outputSize)));
    expect(proba).to.deep.equal(m.predictProba(x));
  } else {
    expect(sim.predictions).to.deep.equal(m.predict(x));
  }
  expect(m.predict(x, { fhe: 'simulate' })).to.deep.equal(m.predict(x));
}

describe('trees/fhe: tree circuits in the shared circuit format', function () {
  this.timeout(30000);
  const iris = loadSplitDataset('iris');
  const bc = loadSplitDataset('breast_cancer');

  for (const [name, ds] of [['iris', iris], ['breast cancer', bc]] as const) {
    it(`${name}: forest, tree and boosting circuits agree with the quantized models on train and test (100%), TLU 7 bits at 6 bits`, () => {
      const all = [...ds.xTrain, ...ds.xTest];
      const models: FheTreeEstimator[] = [
        new RandomForestClassifier({ nEstimators: 20, maxDepth: 4, nBits: 6, seed: 3 }),
        new DecisionTreeClassifier({ maxDepth: 5, nBits: 6 }),
        new XGBClassifier({ nEstimators: name === 'iris' ? 10 : 6, maxDepth: 3, nBits: 6 }),
      ];
      for (const m of models) {
        m.fit(ds.xTrain, ds.yTrain);
        const circuit = m.compile(ds.xTrain);
        expect(circuit.report.maxTluInputBits, m.constructor.name).to.equal(7);
        expect(circuit.report.agreement).to.deep.include({ samples: ds.xTrain.length, predictionAgreement: 1, maxDiffSteps: 0 });
        expectAgreement(m, circuit, all);
      }
    });
  }

  it('layout: gemm select (bias -thresholds) -> tlu compare -> gemm paths -> tlu leaf -> gemm leaves; report ranges and bits', () => {
    const m = new RandomForestClassifier({ nEstimators: 20, maxDepth: 4, nBits: 6, seed: 1 }).fit(iris.xTrain, iris.yTrain);
    const c = m.compile(iris.xTrain);
    expect(c.nodes.map((n) => `${n.op}:${n.name}`)).to.deep.equal(['gemm:select', 'tlu:compare', 'gemm:paths', 'tlu:leaf', 'gemm:leaves']);
    expect(c.input).to.deep.equal({ scale: 1, zeroPoint: 0, bitWidth: 6, signed: false, narrowRange: false });
    expect(c.output).to.deep.include({ input: 'leaves', offset: null, post: 'none', task: 'classification' });
    // Forest: one-hot votes of 31 units each (leafBits 6), averaged: scale = (1/31) / 20.
    expect(c.output.scale[0]).to.be.closeTo(1 / 31 / 20, 1e-15);
    const compare = c.nodes[1]!;
    const leaf = c.nodes[3]!;
    if (compare.op !== 'tlu' || leaf.op !== 'tlu') throw new Error('expected tlu nodes');
    // x - t with x in [0, 63] and integer thresholds in [0, 64]: the table covers the worst case, 7 bits.
    expect(compare.inMin).to.be.at.least(-64);
    expect(compare.inMax).to.be.at.most(63);
    expect(c.report.nodes[1]!.tluInput!.bits).to.equal(7);
    // s = sum(+-c) - leftTurns lies in [-depth, 0]: 3 bits at depth 4.
    expect([leaf.inMin, leaf.inMax]).to.deep.equal([-4, 0]);
    expect(c.report.nodes[3]!.tluInput!.bits).to.equal(3);
    expect(c.report.maxBitWidth).to.be.at.least(7);
    // calibrated ranges: compare/leaf outputs are 0/1, the summed votes never exceed 20 trees x 31.
    expect(c.nodes[4]!.range.max).to.be.at.most(620);
    expect(c.nodes[4]!.worstCase.max).to.equal(620);
    const select = c.nodes[0]!;
    if (select.op !== 'gemm') throw new Error('expected gemm');
    expect(select.weights.shape[0]).to.equal(4);
  });

  it('JSON round trip: parse(stringify(circuit)) simulates identically; a newer version is refused', () => {
    const m = new XGBClassifier({ nEstimators: 5, maxDepth: 2 }).fit(iris.xTrain, iris.yTrain.map((v) => (v === 2 ? 1 : 0)));
    const c = m.compile();
    expect(c.output).to.deep.include({ post: 'softmax', task: 'classification' });
    expect(c.meta).to.deep.include({ binaryLogistic: true, model: 'trees' });
    const text = JSON.stringify(c);
    const again = JSON.parse(text) as TreeCircuit;
    const xin = m.quantizer_!.normalize(iris.xTest);
    const a = simulateCircuit(parseCircuit(c), xin);
    const b = simulateCircuit(parseCircuit(again), xin);
    expect(Array.from(b.outputs)).to.deep.equal(Array.from(a.outputs));
    expect(b.predictions).to.deep.equal(m.predict(iris.xTest));
    // binary logistic as softmax([0, m]) = [1 - sigmoid(m), sigmoid(m)]
    const margin = m.decisionFunction(iris.xTest);
    margin.forEach((r, i) => expect(a.outputs[2 * i + 1]).to.be.closeTo(1 / (1 + Math.exp(-r[0]!)), 1e-6));
    expect(() => parseCircuit({ ...again, formatVersion: 2 })).to.throw(/newer than the newest version/);
  });

  it('regressors (sum, mean, base score) and a <= split rule ensemble simulate exactly', () => {
    const diab = loadSplitDataset('diabetes');
    const xs = diab.xTrain.slice(0, 150), ys = diab.yTrain.slice(0, 150);
    for (const reg of [new DecisionTreeRegressor({ maxDepth: 3 }), new RandomForestRegressor({ nEstimators: 4, maxDepth: 3 }), new XGBRegressor({ nEstimators: 4, maxDepth: 2 })]) {
      reg.fit(xs, ys);
      const c = reg.compile(xs);
      expect(c.output.task).to.equal('regression');
      expectAgreement(reg, c, diab.xTest);
    }
    // scikit-learn style `<=` thresholds: bias -(t + 1) keeps "left" as d < 0; every input value 0..63.
    const e = createTreeEnsemble({ kind: 'regressor', nFeatures: 1, nClasses: 1, nOutputs: 1, aggregation: 'sum', splitRule: '<=',
      trees: [{ lefts: [1, -1, 3, -1, -1], rights: [2, -1, 4, -1, -1], features: [0, -1, 0, -1, -1], thresholds: [2.5, 0, 40.2, 0, 0], values: [[0], [-1], [0], [0.5], [1]] }] });
    const q = quantizeEnsemble(e, { inputBits: 6, leafBits: 6 });
    const c = treeToCircuit(q);
    const xs64 = Array.from({ length: 64 }, (_, i) => [i]);
    const want = xs64.map(([x]) => [x! <= 2 ? -31 : x! <= 40 ? 16 : 31]);
    expect(simulateTreeCircuit(c, xs64).outputs).to.deep.equal(want);
    expect(c.report.maxTluInputBits).to.equal(7);
    // A single-leaf tree: constant output.
    const stump = quantizeEnsemble(createTreeEnsemble({ kind: 'regressor', nFeatures: 2, nClasses: 1, nOutputs: 1, aggregation: 'sum', splitRule: '<',
      trees: [{ lefts: [-1], rights: [-1], features: [-1], thresholds: [0], values: [[2]] }] }), { inputBits: 4, leafBits: 4 });
    expect(simulateTreeCircuit(treeToCircuit(stump), [[0, 0], [15, 3]]).outputs).to.deep.equal([[7], [7]]);
  });

  it('errors: unfitted model, TLU limit, bad maxTluBits', () => {
    expect(() => treeToCircuit(new RandomForestClassifier())).to.throw(ConfigError, /needs a fitted FHE tree estimator/);
    const m = new DecisionTreeClassifier({ maxDepth: 3 }).fit(iris.xTrain, iris.yTrain);
    expect(() => treeToCircuit(m, { maxTluBits: 6 })).to.throw(AccumulatorOverflowError, /node 'compare'.*needs 7 bits.*above the limit 6/);
    expect(() => treeToCircuit(m, { maxTluBits: 1.5 })).to.throw(ConfigError, /maxTluBits must be an integer in \[2, 16\], received 1.5/);
  });

  it('save / load: same predictions and circuit; errors for missing, damaged, newer and mismatched files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trees-'));
    try {
      const cases: [FheTreeEstimator, number[]][] = [
        [new RandomForestClassifier({ nEstimators: 5, maxDepth: 3, seed: 7 }), iris.yTrain],
        [new XGBClassifier({ nEstimators: 4, maxDepth: 2, learningRate: 0.5 }), iris.yTrain],
        [new DecisionTreeRegressor({ maxDepth: 3, nBits: 5 }), iris.xTrain.map((r) => r[0]!)],
      ];
      cases.forEach(([m, y], i) => {
        m.fit(iris.xTrain, y);
        const sub = join(dir, `m${i}`);
        m.save(sub);
        const back = loadTreeEstimator(sub);
        expect(back.constructor.name).to.equal(m.constructor.name);
        expect(back.getParams()).to.deep.equal(m.getParams());
        expect(back.predict(iris.xTest)).to.deep.equal(m.predict(iris.xTest));
        expect(JSON.stringify(back.compile(iris.xTrain))).to.equal(JSON.stringify(m.compile(iris.xTrain)));
      });
      expect(RandomForestClassifier.load(join(dir, 'm0')).predict(iris.xTest)).to.deep.equal(cases[0]![0].predict(iris.xTest));
      expect(() => XGBClassifier.load(join(dir, 'm0'))).to.throw(ModelFileError, /holds a RandomForestClassifier, not a XGBClassifier/);
      expect(() => loadTreeEstimator(join(dir, 'nothing'))).to.throw(ModelFileError, /no tree model in/);
      const bad = join(dir, 'bad');
      cases[0]![0].save(bad);
      writeFileSync(join(bad, 'tree_model.json'), '{"format": "tfjs-qat-fhe-trees", "formatVersion": 9}');
      expect(() => loadTreeEstimator(bad)).to.throw(ModelFileError, /formatVersion 9 is newer/);
      writeFileSync(join(bad, 'tree_model.json'), '{oops');
      expect(() => loadTreeEstimator(bad)).to.throw(ModelFileError, /not valid JSON/);
      writeFileSync(join(bad, 'tree_model.json'), JSON.stringify({ format: 'tfjs-qat-fhe-trees', formatVersion: 1, estimator: 'RandomForestClassifier', params: {}, classes: null, quantizer: { nBits: 6, mins: [0], scales: [1] }, ensemble: {}, quantized: { inputBits: 6, leafBits: 6, leafScale: 1, ensemble: {} } }));
      expect(() => loadTreeEstimator(bad)).to.throw(ModelFileError, /is damaged: kind must be/);
      expect(() => new RandomForestClassifier().save(bad)).to.throw(/not fitted/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
