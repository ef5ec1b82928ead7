/**
 * NeuralNetClassifier: cross-entropy on logits, stratified split, `validAcc`, labels remembered and
 * returned by `predict` (skorch `NeuralNetClassifier`; Concrete ML's module by default).
 */
import { predictWithFhe, type FheEstimatorLike, type FheMode } from '../export/estimator_fhe.js';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import { toFeatures, toTargetList, type FeatureInput, type TargetInput } from './data.js';
import { encodeLabels, learnClasses, type Label } from './labels.js';
import { NeuralNet, type EncodedTargets } from './net.js';
import type { Criterion, ModuleFactory, NeuralNetOptions } from './net_options.js';
import { defaultModuleFactory } from './default_module.js';

/** Classifier options: NeuralNet's plus `classes`. */
export interface NeuralNetClassifierOptions extends NeuralNetOptions {
  /** The class labels, if known in advance (else learned from y at fit). @default learned */
  classes?: readonly Label[];
}

/**
 * Classifier estimator.
 * @example
 * const clf = new NeuralNetClassifier({ module__nLayers: 3, maxEpochs: 50, trainSplit: null });
 * await clf.fit(X, ['a', 'b', ...]); clf.predict(Xtest); // ['a', ...]
 */
export class NeuralNetClassifier extends NeuralNet<Label[]> {
  /** Classes in output order (fitted state). */
  classes_: Label[] | undefined;

  constructor(options: NeuralNetClassifierOptions = {}) {
    super(options);
  }

  protected override defaultCriterion(): Criterion { return 'crossEntropy'; }
  protected override stratifiedByDefault(): boolean { return true; }
  protected override defaultModule(): ModuleFactory | undefined { return defaultModuleFactory(); }
  protected override extraParamKeys(): readonly string[] { return ['classes']; }

  protected override encodeTargets(y: TargetInput, nSamples: number, fitting: boolean): EncodedTargets {
    const list = toTargetList(y, nSamples);
    if (fitting || this.classes_ === undefined) {
      const given = this.params['classes'];
      if (given !== undefined) {
        if (!Array.isArray(given) || given.length < 2) throw new ConfigError(`classes must list at least two labels; got ${JSON.stringify(given)}`);
        this.classes_ = [...(given as Label[])];
      } else {
        this.classes_ = learnClasses(list);
      }
    }
    const classes = this.requireClasses();
    const idx = encodeLabels(list, classes);
    const tensor = tf.tidy(() => tf.oneHot(tf.tensor1d(idx, 'int32'), classes.length).toFloat() as tf.Tensor2D);
    return { tensor, nOutputs: classes.length, strata: idx };
  }

  protected override validationMetrics(outputs: tf.Tensor, targets: tf.Tensor): Record<string, number> {
    const acc = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(outputs, 1), tf.argMax(targets, 1)), 'float32')));
    const v = acc.dataSync()[0] ?? NaN;
    acc.dispose();
    return { validAcc: v };
  }

  private requireClasses(): Label[] {
    if (this.classes_ === undefined) return this.classesFromModel();
    return this.classes_;
  }

  private classesFromModel(): Label[] {
    void this.model;
    throw new ConfigError('classes are unknown; call fit(X, y) first');
  }

  /** Class probabilities (softmax of the logits), one row per sample, columns in `classes_` order. */
  override predictProba(X: FeatureInput): number[][] {
    return super.predictProba(X);
  }

  /**
   * Predicted labels (the classes given at fit). With `{fhe: 'simulate'}` (or 'disable': the same integer
   * program in the clear) the compiled circuit runs instead of the tfjs model; call `compile(X)` first.
   */
  override predict(X: FeatureInput, options: { fhe?: FheMode } = {}): Label[] {
    if (options.fhe !== undefined) return predictWithFhe(this as unknown as FheEstimatorLike, X, { fhe: options.fhe }) as Label[];
    const classes = this.requireClasses();
    const feats = toFeatures(X, 'X', this.sampleShape_);
    try {
      const am = tf.tidy(() => tf.argMax(this.forward(feats.tensor), 1));
      const idx = am.dataSync();
      am.dispose();
      return Array.from(idx, (i) => classes[i] as Label);
    } finally {
      feats.tensor.dispose();
    }
  }

  /**
   * Accuracy on (X, y).
   * @throws DataError when y holds a label unseen during fit.
   */
  score(X: FeatureInput, y: TargetInput): number {
    const pred = this.predict(X);
    const list = toTargetList(y, pred.length);
    encodeLabels(list, this.requireClasses());
    let ok = 0;
    pred.forEach((p, i) => { if (p === list[i]) ok++; });
    return ok / pred.length;
  }

  protected override fittedMeta(): Record<string, unknown> {
    return { classes: this.classes_ ?? null };
  }

  protected override restoreMeta(meta: Readonly<Record<string, unknown>>): void {
    const c = meta['classes'];
    this.classes_ = Array.isArray(c) ? (c as Label[]) : undefined;
  }
}
