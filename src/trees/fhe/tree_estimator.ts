/**
 * Base of the FHE-ready tree estimators (after Concrete ML's `BaseTreeEstimatorMixin`): quantize features to
 * `nBits` before training, train a kept TS tree library on the integers, make thresholds integer and leaves
 * signed `leafBits` integers, then evaluate in the clear (`fhe: 'disable'`, the quantized model) or through the
 * integer GEMM program (`fhe: 'simulate'`, after `compile()`).
 */
import { ConfigError, DataError, NotInitializedError } from '../../errors.js';
import type { TreeEnsemble } from '../tree_ir.js';
import { checkRows, FeatureQuantizer } from './feature_quantizer.js';
import { runIntegerProgram, treeToIntegerProgram, type IntegerTreeProgram } from './integer_program.js';
import { quantizeEnsemble, traverseIntegerTrees, type QuantizedTreeEnsemble } from './quantize_trees.js';

/** Options shared by every FHE tree estimator. */
export interface FheTreeOptions {
  /** Bits of each quantized input feature (Concrete ML `n_bits`). @default 6 */
  nBits?: number;
  /** Bits of the signed quantized leaves. @default nBits */
  leafBits?: number;
  /** Maximum tree depth. @default estimator-specific */
  maxDepth?: number;
  /** Minimum samples to split a node (ml-cart `minNumSamples`). @default 3 */
  minNumSamples?: number;
  /** Seed of any randomness (bagging, feature sampling). @default 42 */
  seed?: number;
  /** Largest table-lookup input allowed at `compile()`. @default 8 */
  maxTluBits?: number;
}

/** Resolved {@link FheTreeOptions}. */
export interface ResolvedFheTreeOptions {
  nBits: number;
  leafBits: number;
  maxDepth: number;
  minNumSamples: number;
  seed: number;
  maxTluBits: number;
}

/** Validate options once (every field, with its default). */
export function resolveFheTreeOptions(o: FheTreeOptions, defaultDepth: number): ResolvedFheTreeOptions {
  const nBits = o.nBits ?? 6;
  const r = { nBits, leafBits: o.leafBits ?? nBits, maxDepth: o.maxDepth ?? defaultDepth, minNumSamples: o.minNumSamples ?? 3, seed: o.seed ?? 42, maxTluBits: o.maxTluBits ?? 8 };
  const intIn = (k: keyof ResolvedFheTreeOptions, lo: number, hi: number): void => {
    const v = r[k];
    if (!Number.isInteger(v) || v < lo || v > hi) throw new ConfigError(`${k} must be an integer in [${lo}, ${hi}], received ${v}.`);
  };
  intIn('nBits', 1, 16); intIn('leafBits', 2, 16); intIn('maxDepth', 1, 30); intIn('minNumSamples', 1, 1e9); intIn('seed', -(2 ** 31), 2 ** 31 - 1); intIn('maxTluBits', 2, 16);
  return r;
}

/** Evaluation mode of `predict`: the quantized model in the clear, or the integer FHE program. @default 'disable' */
export interface FhePredictOptions {
  /** `'disable'`: quantized model in the clear; `'simulate'`: integer GEMM program (needs `compile()`). @default 'disable' */
  fhe?: 'disable' | 'simulate';
}

/** What a subclass trains: an ensemble on integer features. */
export interface TrainedTrees {
  /** Ensemble (float leaves) on the integer features. */
  ensemble: TreeEnsemble;
}

/** Shared fit / compile / predict logic; subclasses implement `trainOnIntegers`. */
export abstract class FheTreeEstimator {
  /** Resolved options. */
  readonly options: ResolvedFheTreeOptions;
  /** Classifier or regressor. */
  abstract readonly kind: 'classifier' | 'regressor';
  /** Input quantizer (after fit). */
  quantizer_?: FeatureQuantizer;
  /** Ensemble trained on integer features, float leaves (after fit). */
  ensemble_?: TreeEnsemble;
  /** Integer ensemble (after fit). */
  quantized_?: QuantizedTreeEnsemble;
  /** Integer GEMM program (after compile). */
  program_?: IntegerTreeProgram;
  /** Sorted class labels (classifiers, after fit). */
  classes_?: number[];

  protected constructor(options: FheTreeOptions, defaultDepth: number) {
    this.options = resolveFheTreeOptions(options, defaultDepth);
  }

  /** Train on integer features; `y` holds class indices (classifier) or targets (regressor). */
  protected abstract trainOnIntegers(xq: number[][], y: number[], nClasses: number): TreeEnsemble;

  /**
   * Quantize features, train, quantize thresholds and leaves.
   * @throws DataError on malformed rows/targets.
   */
  fit(x: number[][], y: number[]): this {
    const rows = checkRows(x, 'fit');
    if (!Array.isArray(y) || y.length !== rows.length || !y.every((v) => Number.isFinite(v))) {
      throw new DataError(`fit: y must hold ${rows.length} finite numbers (one per row), received ${Array.isArray(y) ? `${y.length} values` : String(y)}.`);
    }
    this.quantizer_ = FeatureQuantizer.fit(rows, this.options.nBits);
    const xq = this.quantizer_.quantize(rows);
    let target = y;
    let nClasses = 1;
    if (this.kind === 'classifier') {
      this.classes_ = [...new Set(y)].sort((a, b) => a - b);
      if (this.classes_.length < 2) throw new DataError(`fit: a classifier needs at least 2 classes, received only ${this.classes_[0]}.`);
      const index = new Map(this.classes_.map((c, i) => [c, i]));
      target = y.map((v) => index.get(v) as number);
      nClasses = this.classes_.length;
    }
    this.ensemble_ = this.trainOnIntegers(xq, target, nClasses);
    this.quantized_ = quantizeEnsemble(this.ensemble_, { inputBits: this.options.nBits, leafBits: this.options.leafBits });
    this.program_ = undefined;
    return this;
  }

  /**
   * Build the integer GEMM program (Concrete ML's `compile`).
   * @throws NotInitializedError before fit; AccumulatorOverflowError if a lookup exceeds `maxTluBits`.
   */
  compile(): IntegerTreeProgram {
    const q = this.fitted().quantized;
    this.program_ = treeToIntegerProgram(q, { maxTluBits: this.options.maxTluBits });
    return this.program_;
  }

  private fitted(): { quantizer: FeatureQuantizer; quantized: QuantizedTreeEnsemble } {
    if (!this.quantizer_ || !this.quantized_) throw new NotInitializedError(`${this.constructor.name} is not fitted; call fit(X, y) first.`);
    return { quantizer: this.quantizer_, quantized: this.quantized_ };
  }

  /** Summed integer leaf outputs `[rows][nOutputs]` of the quantized model or the integer program. */
  integerOutputs(x: number[][], options: FhePredictOptions = {}): number[][] {
    const { quantizer, quantized } = this.fitted();
    const fhe = options.fhe ?? 'disable';
    const xq = quantizer.quantize(x);
    if (fhe === 'simulate') {
      if (!this.program_) throw new NotInitializedError(`predict({fhe: 'simulate'}) needs the integer program; call compile() after fit.`);
      return runIntegerProgram(this.program_, xq);
    }
    if (fhe !== 'disable') throw new ConfigError(`fhe must be 'disable' or 'simulate', received ${JSON.stringify(fhe)} (real FHE execution is not available in tfjs-qat).`);
    return traverseIntegerTrees(quantized.ensemble, xq).map((perTree) => {
      const s = new Array<number>(quantized.ensemble.nOutputs).fill(0);
      for (const v of perTree) v.forEach((z, o) => { s[o] = (s[o] as number) + z; });
      return s;
    });
  }

  /** Dequantized margin `[rows][nOutputs]`: leafScale × sum, averaged for forests, plus base score. */
  decisionFunction(x: number[][], options: FhePredictOptions = {}): number[][] {
    const q = this.fitted().quantized;
    const e = q.ensemble;
    const div = e.aggregation === 'mean' ? e.trees.length : 1;
    return this.integerOutputs(x, options).map((r) => r.map((v, o) => (v * q.leafScale) / div + (e.baseScore[o] as number)));
  }

  /**
   * Class probabilities `[rows][nClasses]` (classifiers).
   * @throws ConfigError on a regressor.
   */
  predictProba(x: number[][], options: FhePredictOptions = {}): number[][] {
    if (this.kind !== 'classifier') throw new ConfigError(`${this.constructor.name} is a regressor; use predict.`);
    const e = this.fitted().quantized.ensemble;
    return this.decisionFunction(x, options).map((m) => {
      if (e.postTransform === 'sigmoid') {
        const p = 1 / (1 + Math.exp(-(m[0] as number)));
        return [1 - p, p];
      }
      if (e.postTransform === 'softmax') {
        const mx = Math.max(...m);
        const ex = m.map((v) => Math.exp(v - mx));
        const s = ex.reduce((a, b) => a + b, 0);
        return ex.map((v) => v / s);
      }
      return m;
    });
  }

  /** Class labels (first maximum wins ties) or regression values. */
  predict(x: number[][], options: FhePredictOptions = {}): number[] {
    if (this.kind === 'regressor') return this.decisionFunction(x, options).map((m) => m[0] as number);
    const classes = this.classes_ as number[];
    return this.predictProba(x, options).map((p) => {
      let best = 0;
      for (let i = 1; i < p.length; i++) if ((p[i] as number) > (p[best] as number)) best = i;
      return classes[best] as number;
    });
  }
}
