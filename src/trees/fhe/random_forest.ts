/** FHE-ready random forests (Concrete ML `RandomForestClassifier` / `RandomForestRegressor`), trained with ml-random-forest. */
import { RandomForestClassifier as MlRfClassifier, RandomForestRegression as MlRfRegression } from 'ml-random-forest';
import { ConfigError } from '../../errors.js';
import { fromMlTree } from '../converters/ml_cart.js';
import type { TreeEnsemble } from '../tree_ir.js';
import { FheTreeEstimator, type FheTreeOptions } from './tree_estimator.js';

/** Forest options. */
export interface FheForestOptions extends FheTreeOptions {
  /** Number of trees. @default 20 */
  nEstimators?: number;
  /** Fraction (0, 1] or count of features per tree (ml-random-forest `maxFeatures`). @default 1.0 */
  maxFeatures?: number;
}

function checkForest(o: FheForestOptions): { nEstimators: number; maxFeatures: number } {
  const nEstimators = o.nEstimators ?? 20;
  const maxFeatures = o.maxFeatures ?? 1.0;
  if (!Number.isInteger(nEstimators) || nEstimators < 1) throw new ConfigError(`nEstimators must be a positive integer, received ${nEstimators}.`);
  if (!(maxFeatures > 0)) throw new ConfigError(`maxFeatures must be a fraction in (0, 1] or a positive count, received ${maxFeatures}.`);
  return { nEstimators, maxFeatures };
}

/**
 * Random forest classifier (votes of `nEstimators` ml-cart trees; leaves are one-hot votes, averaged).
 * Ties between classes go to the lowest class index (ml-random-forest's own `predict` breaks them by tree order).
 * @example new RandomForestClassifier({nEstimators: 20, maxDepth: 4, nBits: 6}).fit(X, y)
 */
export class RandomForestClassifier extends FheTreeEstimator {
  /** Classifier. */
  readonly kind = 'classifier' as const;
  /** Forest size and feature sampling. */
  readonly forest: { nEstimators: number; maxFeatures: number };
  /** @param options `maxDepth` defaults to 4. */
  constructor(options: FheForestOptions = {}) {
    super(options, 4);
    this.forest = checkForest(options);
  }
  protected trainOnIntegers(xq: number[][], y: number[], nClasses: number): TreeEnsemble {
    const rf = new MlRfClassifier({
      nEstimators: this.forest.nEstimators, maxFeatures: this.forest.maxFeatures, seed: this.options.seed, noOOB: true,
      treeOptions: { maxDepth: this.options.maxDepth, minNumSamples: this.options.minNumSamples },
    });
    rf.train(xq, y);
    return { ...fromMlTree(rf, { nFeatures: (xq[0] as number[]).length, nClasses }), tieBreak: 'lowestClass' };
  }
}

/**
 * Random forest regressor (mean of `nEstimators` ml-cart regression trees).
 * @example new RandomForestRegressor({nEstimators: 20}).fit(X, y).predict(X)
 */
export class RandomForestRegressor extends FheTreeEstimator {
  /** Regressor. */
  readonly kind = 'regressor' as const;
  /** Forest size and feature sampling. */
  readonly forest: { nEstimators: number; maxFeatures: number };
  /** @param options `maxDepth` defaults to 4. */
  constructor(options: FheForestOptions = {}) {
    super(options, 4);
    this.forest = checkForest(options);
  }
  protected trainOnIntegers(xq: number[][], y: number[]): TreeEnsemble {
    const rf = new MlRfRegression({
      nEstimators: this.forest.nEstimators, maxFeatures: this.forest.maxFeatures, seed: this.options.seed, noOOB: true,
      treeOptions: { maxDepth: this.options.maxDepth, minNumSamples: this.options.minNumSamples },
    });
    rf.train(xq, y);
    return fromMlTree(rf, { nFeatures: (xq[0] as number[]).length });
  }
}
