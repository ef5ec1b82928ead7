/**
 * FHE-ready gradient boosting (Concrete ML `XGBClassifier` / `XGBRegressor` style). No kept TS library trains
 * boosted trees (ml-cart and ml-random-forest do not), so this is a small first-order gradient boosting over
 * ml-cart `DecisionTreeRegression` trees: each round fits a regression tree to the negative gradient
 * (`y - p` for logistic/softmax loss, `y - f` for squared loss); its leaf means times `learningRate` are the leaf values.
 * Binary: one margin with sigmoid; multi-class: one tree per class per round with softmax; regression: squared loss.
 */
import { DecisionTreeRegression as CartRegression } from 'ml-cart';
import { ConfigError } from '../../errors.js';
import { fromMlTree } from '../converters/ml_cart.js';
import { createTreeEnsemble, type TreeEnsemble, type TreeParameters } from '../tree_ir.js';
import { FheTreeEstimator, type FheTreeOptions } from './tree_estimator.js';

/** Boosting options. */
export interface FheBoostingOptions extends FheTreeOptions {
  /** Boosting rounds. @default 20 */
  nEstimators?: number;
  /** Shrinkage of every tree. @default 0.3 */
  learningRate?: number;
}

function checkBoosting(o: FheBoostingOptions): { nEstimators: number; learningRate: number } {
  const nEstimators = o.nEstimators ?? 20;
  const learningRate = o.learningRate ?? 0.3;
  if (!Number.isInteger(nEstimators) || nEstimators < 1) throw new ConfigError(`nEstimators must be a positive integer, received ${nEstimators}.`);
  if (!(learningRate > 0 && learningRate <= 1)) throw new ConfigError(`learningRate must be in (0, 1], received ${learningRate}.`);
  return { nEstimators, learningRate };
}

/** Fit one regression tree to `r`; return its IR tree with leaves scaled by `lr` into output column `col` of `width`, and its predictions. */
function fitRound(xq: number[][], r: number[], o: { maxDepth: number; minNumSamples: number }, lr: number, col: number, width: number): { tree: TreeParameters; pred: number[] } {
  const dt = new CartRegression({ maxDepth: o.maxDepth, minNumSamples: o.minNumSamples });
  dt.train(xq, r);
  const t = fromMlTree(dt, { nFeatures: (xq[0] as number[]).length }).trees[0] as TreeParameters;
  const values = t.values.map((v) => {
    const out = new Array<number>(width).fill(0);
    out[col] = (v[0] as number) * lr;
    return out;
  });
  return { tree: { ...t, values }, pred: dt.predict(xq).map((v) => v * lr) };
}

/**
 * Gradient-boosted trees classifier (binary: sigmoid, multi-class: softmax).
 * @example new XGBClassifier({nEstimators: 20, maxDepth: 3}).fit(X, y)
 */
export class XGBClassifier extends FheTreeEstimator {
  /** Classifier. */
  readonly kind = 'classifier' as const;
  /** Rounds and shrinkage. */
  readonly boosting: { nEstimators: number; learningRate: number };
  /** @param options `maxDepth` defaults to 3. */
  constructor(options: FheBoostingOptions = {}) {
    super(options, 3);
    this.boosting = checkBoosting(options);
  }
  protected trainOnIntegers(xq: number[][], y: number[], nClasses: number): TreeEnsemble {
    const { nEstimators, learningRate } = this.boosting;
    const trees: TreeParameters[] = [];
    const n = xq.length;
    if (nClasses === 2) {
      const p0 = Math.min(1 - 1e-6, Math.max(1e-6, y.reduce((a, b) => a + b, 0) / n));
      const base = Math.log(p0 / (1 - p0));
      const f = new Array<number>(n).fill(base);
      for (let k = 0; k < nEstimators; k++) {
        const r = y.map((v, i) => v - 1 / (1 + Math.exp(-(f[i] as number))));
        const { tree, pred } = fitRound(xq, r, this.options, learningRate, 0, 1);
        trees.push(tree);
        pred.forEach((v, i) => { f[i] = (f[i] as number) + v; });
      }
      return createTreeEnsemble({ kind: 'classifier', nFeatures: (xq[0] as number[]).length, nClasses: 2, nOutputs: 1, aggregation: 'sum',
        splitRule: '<', baseScore: [base], postTransform: 'sigmoid', trees, source: 'tfjs-qat gradient boosting (ml-cart trees)' });
    }
    const f = Array.from({ length: n }, () => new Array<number>(nClasses).fill(0));
    for (let k = 0; k < nEstimators; k++) {
      const p = f.map((m) => { const mx = Math.max(...m); const e = m.map((v) => Math.exp(v - mx)); const s = e.reduce((a, b) => a + b, 0); return e.map((v) => v / s); });
      for (let c = 0; c < nClasses; c++) {
        const r = y.map((v, i) => (v === c ? 1 : 0) - ((p[i] as number[])[c] as number));
        const { tree, pred } = fitRound(xq, r, this.options, learningRate, c, nClasses);
        trees.push(tree);
        pred.forEach((v, i) => { (f[i] as number[])[c] = ((f[i] as number[])[c] as number) + v; });
      }
    }
    return createTreeEnsemble({ kind: 'classifier', nFeatures: (xq[0] as number[]).length, nClasses, nOutputs: nClasses, aggregation: 'sum',
      splitRule: '<', postTransform: 'softmax', trees, source: 'tfjs-qat gradient boosting (ml-cart trees)' });
  }
}

/**
 * Gradient-boosted trees regressor (squared loss, base score = mean target).
 * @example new XGBRegressor({nEstimators: 30}).fit(X, y).predict(X)
 */
export class XGBRegressor extends FheTreeEstimator {
  /** Regressor. */
  readonly kind = 'regressor' as const;
  /** Rounds and shrinkage. */
  readonly boosting: { nEstimators: number; learningRate: number };
  /** @param options `maxDepth` defaults to 3. */
  constructor(options: FheBoostingOptions = {}) {
    super(options, 3);
    this.boosting = checkBoosting(options);
  }
  protected trainOnIntegers(xq: number[][], y: number[]): TreeEnsemble {
    const { nEstimators, learningRate } = this.boosting;
    const base = y.reduce((a, b) => a + b, 0) / y.length;
    const f = new Array<number>(y.length).fill(base);
    const trees: TreeParameters[] = [];
    for (let k = 0; k < nEstimators; k++) {
      const { tree, pred } = fitRound(xq, y.map((v, i) => v - (f[i] as number)), this.options, learningRate, 0, 1);
      trees.push(tree);
      pred.forEach((v, i) => { f[i] = (f[i] as number) + v; });
    }
    return createTreeEnsemble({ kind: 'regressor', nFeatures: (xq[0] as number[]).length, nClasses: 1, nOutputs: 1, aggregation: 'sum',
      splitRule: '<', baseScore: [base], trees, source: 'tfjs-qat gradient boosting (ml-cart trees)' });
  }
}
