/** FHE-ready decision trees (Concrete ML `DecisionTreeClassifier` / `DecisionTreeRegressor`), trained with ml-cart. */
import { DecisionTreeClassifier as CartClassifier, DecisionTreeRegression as CartRegression } from 'ml-cart';
import { fromMlTree } from '../converters/ml_cart.js';
import type { TreeEnsemble } from '../tree_ir.js';
import { FheTreeEstimator, type FheTreeOptions } from './tree_estimator.js';

/**
 * Decision tree classifier on `nBits` quantized features.
 * @example
 * const dt = new DecisionTreeClassifier({nBits: 6, maxDepth: 4}).fit(X, y);
 * dt.compile(); dt.predict(X, {fhe: 'simulate'});
 */
export class DecisionTreeClassifier extends FheTreeEstimator {
  /** Classifier. */
  readonly kind = 'classifier' as const;
  /** @param options `maxDepth` defaults to 5. */
  constructor(options: FheTreeOptions = {}) {
    super(options, 5);
  }
  protected trainOnIntegers(xq: number[][], y: number[], nClasses: number): TreeEnsemble {
    const dt = new CartClassifier({ maxDepth: this.options.maxDepth, minNumSamples: this.options.minNumSamples });
    dt.train(xq, y);
    return fromMlTree(dt, { nFeatures: (xq[0] as number[]).length, nClasses });
  }
}

/**
 * Decision tree regressor on `nBits` quantized features.
 * @example new DecisionTreeRegressor({maxDepth: 4}).fit(X, y).predict(X)
 */
export class DecisionTreeRegressor extends FheTreeEstimator {
  /** Regressor. */
  readonly kind = 'regressor' as const;
  /** @param options `maxDepth` defaults to 5. */
  constructor(options: FheTreeOptions = {}) {
    super(options, 5);
  }
  protected trainOnIntegers(xq: number[][], y: number[]): TreeEnsemble {
    const dt = new CartRegression({ maxDepth: this.options.maxDepth, minNumSamples: this.options.minNumSamples });
    dt.train(xq, y);
    return fromMlTree(dt, { nFeatures: (xq[0] as number[]).length });
  }
}
