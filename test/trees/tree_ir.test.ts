import { expect } from 'chai';
import { ConfigError, DataError, UnsupportedLayerError } from '../../src/errors.js';
import { toTreeEnsemble } from '../../src/trees/converters/index.js';
import { fromXgboostJson } from '../../src/trees/converters/xgboost.js';
import { fromSklearnJson } from '../../src/trees/converters/sklearn.js';
import { fromMlTree } from '../../src/trees/converters/ml_cart.js';
import { ceilF32, exactF32Threshold, floorF32 } from '../../src/trees/tensor/float32_threshold.js';
import { createTreeEnsemble, treeDepth, type TreeEnsembleSpec } from '../../src/trees/tree_ir.js';
import { convertTrees } from '../../src/trees/tensor/convert_trees.js';
import { gemmMatrices } from '../../src/trees/tensor/gemm.js';

const stump = (): TreeEnsembleSpec => ({
  kind: 'regressor', nFeatures: 2, nClasses: 1, nOutputs: 1, aggregation: 'sum', splitRule: '<=',
  trees: [{ lefts: [1, -1, -1], rights: [2, -1, -1], features: [1, -1, -1], thresholds: [0.5, 0, 0], values: [[0], [1], [2]] }],
});

describe('trees: tree IR', () => {
  it('accepts a stump and reports its depth and defaults', () => {
    const e = createTreeEnsemble(stump());
    expect(e.maxDepth).to.equal(1);
    expect(e.baseScore).to.deep.equal([0]);
    expect(e.postTransform).to.equal('none');
    expect(treeDepth(e.trees[0]!)).to.equal(1);
  });
  it('rejects bad metadata with ConfigError naming the field and value', () => {
    expect(() => createTreeEnsemble({ ...stump(), splitRule: '>' as never })).to.throw(ConfigError, /splitRule.*'<=' or '<'.*">"/);
    expect(() => createTreeEnsemble({ ...stump(), kind: 'ranker' as never })).to.throw(ConfigError, /kind.*"ranker"/);
    expect(() => createTreeEnsemble({ ...stump(), nFeatures: 0 })).to.throw(ConfigError, /nFeatures.*0/);
    expect(() => createTreeEnsemble({ ...stump(), baseScore: [1, 2] })).to.throw(ConfigError, /baseScore must be 1/);
    expect(() => createTreeEnsemble({ ...stump(), kind: 'classifier', nClasses: 3, nOutputs: 2 })).to.throw(ConfigError, /nOutputs === nClasses \(3\)/);
  });
  it('rejects malformed trees with DataError naming tree and node', () => {
    const s = stump();
    const bad = (patch: object): TreeEnsembleSpec => ({ ...s, trees: [{ ...s.trees[0]!, ...patch }] });
    expect(() => createTreeEnsemble(bad({ features: [5, -1, -1] }))).to.throw(DataError, /tree 0, node 0: feature 5 is outside \[0, 1\]/);
    expect(() => createTreeEnsemble(bad({ rights: [1, -1, -1] }))).to.throw(DataError, /child 1 is reached twice/);
    expect(() => createTreeEnsemble(bad({ lefts: [1, -1, 2] }))).to.throw(DataError, /node 2: has one child only/);
    expect(() => createTreeEnsemble(bad({ values: [[0], [1], [NaN]] }))).to.throw(DataError, /leaf 2: value must be 1 finite/);
    expect(() => createTreeEnsemble({ ...s, trees: [] })).to.throw(DataError, /at least one tree/);
  });
  it('builds Hummingbird GEMM matrices: W2 +1/-1 per subtree and B2 = left turns', () => {
    const t = { lefts: [1, 3, -1, -1, -1], rights: [2, 4, -1, -1, -1], features: [0, 1, -1, -1, -1], thresholds: [1, 2, 0, 0, 0], values: [[0], [0], [5], [3], [4]] };
    const m = gemmMatrices(t);
    expect(m.internal).to.deep.equal([0, 1]);
    expect(m.leaves).to.deep.equal([2, 3, 4]);
    expect(m.w2).to.deep.equal([[-1, 1, 1], [0, 1, -1]]);
    expect(m.b2).to.deep.equal([0, 2, 1]);
  });
  it('directed float32 rounding keeps comparisons exact', () => {
    const t = 0.1; // not a float32
    expect(floorF32(t)).to.be.below(t);
    expect(ceilF32(t)).to.be.above(t);
    expect(Math.fround(floorF32(t))).to.equal(floorF32(t));
    expect(exactF32Threshold(2.5, '<')).to.equal(2.5);
    // ml-cart: (1.6 + 1.8) / 2 = 1.7000000000000002 sends the data value 1.7 left.
    expect(Math.fround(1.7) < exactF32Threshold((1.6 + 1.8) / 2, '<', 'float64')).to.equal(true);
    expect(Math.fround(1.7) < exactF32Threshold(1.7, '<', 'float64')).to.equal(false);
  });
  it('evaluates a hand-made stump with every strategy', () => {
    for (const strategy of ['gemm', 'treeTraversal', 'perfectTreeTraversal'] as const) {
      const m = convertTrees(createTreeEnsemble(stump()), { strategy });
      const p = m.predict([[9, 0.5], [9, 0.6]]);
      expect(Array.from(p.dataSync())).to.deep.equal([1, 2]);
      p.dispose();
      expect(() => m.predict([[1, 2, 3]])).to.throw(DataError, /rows of 2 numbers/);
      expect(() => m.predict([[NaN, 1]])).to.throw(DataError, /finite/);
      expect(() => m.predictProba([[1, 1]])).to.throw(ConfigError, /regressor/);
      m.dispose();
    }
  });
  it('picks strategies by depth like Hummingbird', () => {
    const deep = (d: number): TreeEnsembleSpec => {
      const lefts: number[] = [], rights: number[] = [], features: number[] = [], thresholds: number[] = [], values: number[][] = [];
      for (let i = 0; i < d; i++) { lefts.push(2 * i + 1); rights.push(2 * i + 2); features.push(0); thresholds.push(i); values.push([0]); lefts.push(-1); rights.push(-1); features.push(-1); thresholds.push(0); values.push([i]); }
      lefts.push(-1); rights.push(-1); features.push(-1); thresholds.push(0); values.push([d]);
      // Re-index: node 2i+2 is the next internal node; build as a chain.
      return { ...stump(), trees: [{ lefts, rights, features, thresholds, values }] };
    };
    for (const [d, want] of [[3, 'gemm'], [4, 'perfectTreeTraversal'], [10, 'perfectTreeTraversal'], [11, 'treeTraversal']] as const) {
      const m = convertTrees(createTreeEnsemble(deep(d)));
      expect(m.strategy).to.equal(want);
      const p = m.predict([[d - 0.5, 0], [-1, 0]]);
      expect(Array.from(p.dataSync())).to.deep.equal([d, 0]);
      p.dispose();
      m.dispose();
    }
    expect(() => convertTrees(createTreeEnsemble(deep(2)), { strategy: 'fast' as never })).to.throw(ConfigError, /strategy must be one of/);
  });
});

describe('trees: unsupported models', () => {
    type Doc = { learner: { objective: { name: string }; gradient_booster: { name: string; model: { trees: { split_type: number[] }[] } } } };
  const xgb = (patch: (d: Doc) => void): unknown => {
    const d = { version: [1, 7, 4], learner: { learner_model_param: { base_score: '5E-1', num_class: '0', num_feature: '1' },
      objective: { name: 'reg:squarederror' }, gradient_booster: { name: 'gbtree', model: { tree_info: [0],
        trees: [{ left_children: [1, -1, -1], right_children: [2, -1, -1], split_indices: [0, 0, 0], split_conditions: [0.5, 1, 2], split_type: [0, 0, 0] }] } } } };
    patch(d);
    return d;
  };
  it('converts a minimal XGBoost regression JSON (base_score added, < rule)', () => {
    const e = fromXgboostJson(xgb(() => undefined));
    expect(e.splitRule).to.equal('<');
    expect(e.baseScore).to.deep.equal([0.5]);
  });
  it('names the objective, booster or split type it cannot convert', () => {
    expect(() => fromXgboostJson(xgb((d) => { d.learner.objective.name = 'rank:pairwise'; }))).to.throw(UnsupportedLayerError, /objective 'rank:pairwise'.*supported: binary:logistic, multi:softprob/);
    expect(() => fromXgboostJson(xgb((d) => { d.learner.gradient_booster.name = 'dart'; }))).to.throw(UnsupportedLayerError, /booster 'dart'.*only 'gbtree'/);
    expect(() => fromXgboostJson(xgb((d) => { d.learner.gradient_booster.model.trees[0]!.split_type = [1, 0, 0]; }))).to.throw(UnsupportedLayerError, /categorical/);
    expect(() => fromSklearnJson({ format: 'sklearn-trees', estimator: 'GradientBoostingClassifier', n_features: 1, trees: [] })).to.throw(UnsupportedLayerError, /'GradientBoostingClassifier'.*supported: DecisionTreeClassifier/);
    expect(() => toTreeEnsemble(new Map())).to.throw(UnsupportedLayerError, /constructor Map.*supported: TreeEnsemble/);
    expect(() => toTreeEnsemble(42)).to.throw(UnsupportedLayerError, /cannot convert 42/);
    expect(() => fromMlTree({ name: 'RFRegression', selectionMethod: 'median', baseModel: { estimators: [], indexes: [] } })).to.throw(UnsupportedLayerError, /selectionMethod 'median'.*only 'mean'/);
    expect(() => fromMlTree({ name: 'DTClassifier', options: {} })).to.throw(UnsupportedLayerError, /train it before converting/);
  });
  it('rejects multi-output scikit-learn trees', () => {
    const doc = { format: 'sklearn-trees', estimator: 'DecisionTreeRegressor', n_features: 1, trees: [{ children_left: [1, -1, -1], children_right: [2, -1, -1], feature: [0, -2, -2], threshold: [0.5, -2, -2], value: [[[0], [0]], [[1], [1]], [[2], [2]]] }] };
    expect(() => fromSklearnJson(doc)).to.throw(UnsupportedLayerError, /2 outputs; multi-output/);
  });
});
