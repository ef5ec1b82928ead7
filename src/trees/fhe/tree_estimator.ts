/**
 * Base of the FHE-ready tree estimators (after Concrete ML's `BaseTreeEstimatorMixin`): quantize features to
 * `nBits` before training, train a kept TS tree library on the integers, make thresholds integer and leaves
 * signed `leafBits` integers, then evaluate in the clear (`fhe: 'disable'`, the quantized model) or through the
 * mixed-integer circuit (`fhe: 'simulate'`: `simulateCircuit` on the circuit built by `compile()`).
 * The dequantization (`f32(f32(q·scale) + baseScore)`) and sigmoid/softmax of `'disable'` follow the circuit's output
 * dequantizer step by step, so both modes give bit-identical probabilities and predictions.
 */
import { ConfigError, DataError, NotInitializedError } from '../../errors.js';
import type { TreeEnsemble } from '../tree_ir.js';
import { checkRows, FeatureQuantizer } from './feature_quantizer.js';
import { quantizeEnsemble, traverseIntegerTrees, type QuantizedTreeEnsemble } from './quantize_trees.js';
import { simulateCircuit } from '../../export/simulate.js';
import { simulateTreeCircuit, treeToCircuit, type TreeCircuit } from './to_circuit.js';
import { readTreeModel, TREE_MODEL_FORMAT, TREE_MODEL_VERSION, writeTreeModel } from './persistence.js';

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
  /** `'disable'`: quantized model in the clear; `'simulate'`: the circuit of `compile()` run by `simulateCircuit`. @default 'disable' */
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
  /** Mixed-integer circuit (after compile). */
  circuit_?: TreeCircuit;
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
    this.circuit_ = undefined;
    return this;
  }

  /**
   * Build the mixed-integer circuit (Concrete ML's `compile`): the GEMM form as gemm/tlu nodes, with its bit-width
   * report; `X` (raw rows, e.g. the training set) calibrates the node ranges and checks agreement.
   * @example const circuit = rf.compile(Xtrain); circuit.report.maxTluInputBits // 7 at nBits 6
   * @throws NotInitializedError before fit; AccumulatorOverflowError if a lookup exceeds `maxTluBits`.
   */
  compile(x?: number[][], meta: Record<string, unknown> = {}): TreeCircuit {
    this.fitted();
    this.circuit_ = treeToCircuit(this, { maxTluBits: this.options.maxTluBits, meta, ...(x !== undefined ? { calibration: checkRows(x, 'compile', this.quantizer_?.nFeatures) } : {}) });
    return this.circuit_;
  }

  /** The circuit of `compile()`, or a NotInitializedError. */
  protected compiled(): TreeCircuit {
    if (!this.circuit_) throw new NotInitializedError(`predict({fhe: 'simulate'}) needs the circuit; call compile() after fit.`);
    return this.circuit_;
  }

  /** Fitted state, or a NotInitializedError. */
  protected fitted(): { quantizer: FeatureQuantizer; quantized: QuantizedTreeEnsemble } {
    if (!this.quantizer_ || !this.quantized_) throw new NotInitializedError(`${this.constructor.name} is not fitted; call fit(X, y) first.`);
    return { quantizer: this.quantizer_, quantized: this.quantized_ };
  }

  /** Constructor options (resolved), including the forest / boosting options of subclasses. */
  getParams(): Record<string, number> {
    const extra = this as { forest?: Record<string, number>; boosting?: Record<string, number> };
    return { ...this.options, ...extra.forest, ...extra.boosting };
  }

  /**
   * Save the fitted estimator to `dir/tree_model.json` (atomic write); `load(dir)` restores it.
   * @example rf.save('out/forest'); const again = RandomForestClassifier.load('out/forest');
   * @throws NotInitializedError before fit; ModelFileError when the file cannot be written.
   */
  save(dir: string): string {
    const { quantizer, quantized } = this.fitted();
    const ensemble = this.ensemble_ as TreeEnsemble;
    return writeTreeModel(dir, {
      format: TREE_MODEL_FORMAT, formatVersion: TREE_MODEL_VERSION, estimator: this.constructor.name, kind: this.kind,
      params: this.getParams(), classes: this.classes_ ?? null, quantizer: quantizer.toJSON(), ensemble,
      quantized: { ensemble: quantized.ensemble, inputBits: quantized.inputBits, leafBits: quantized.leafBits, leafScale: quantized.leafScale },
    });
  }

  /**
   * Load an estimator of this class saved by `save(dir)` (call `compile()` again before `fhe: 'simulate'`).
   * @example const rf = RandomForestClassifier.load('out/forest');
   * @throws ModelFileError for a missing or damaged file or another estimator class.
   */
  static load<T extends FheTreeEstimator>(this: new (options: Record<string, number>) => T, dir: string): T {
    const { state } = readTreeModel(dir, this.name);
    return restoreTreeEstimator(new this(state.params), state);
  }

  /** Summed integer leaf outputs `[rows][nOutputs]` of the quantized model (traversal) or of the circuit. */
  integerOutputs(x: number[][], options: FhePredictOptions = {}): number[][] {
    const { quantizer, quantized } = this.fitted();
    if (checkFhe(options.fhe) === 'simulate') return simulateTreeCircuit(this.compiled(), quantizer.normalize(x)).outputs;
    return traverseIntegerTrees(quantized.ensemble, quantizer.quantize(x)).map((perTree) => {
      const s = new Array<number>(quantized.ensemble.nOutputs).fill(0);
      for (const v of perTree) v.forEach((z, o) => { s[o] = (s[o] as number) + z; });
      return s;
    });
  }

  /** Dequantized margin `[rows][nOutputs]`: `f32(f32(sum · leafScale / nTrees) + baseScore)` as the circuit's output dequantizer. */
  decisionFunction(x: number[][], options: FhePredictOptions = {}): number[][] {
    const q = this.fitted().quantized;
    const e = q.ensemble;
    const scale = q.leafScale / (e.aggregation === 'mean' ? e.trees.length : 1);
    const f32 = Math.fround;
    return this.integerOutputs(x, options).map((r) => r.map((v, o) => {
      const b = e.baseScore[o] as number;
      return b !== 0 ? f32(f32(v * scale) + b) : f32(v * scale);
    }));
  }

  /**
   * Class probabilities `[rows][nClasses]` (classifiers): the circuit's outputs with `fhe: 'simulate'`.
   * @throws ConfigError on a regressor.
   */
  predictProba(x: number[][], options: FhePredictOptions = {}): number[][] {
    if (this.kind !== 'classifier') throw new ConfigError(`${this.constructor.name} is a regressor; use predict.`);
    const e = this.fitted().quantized.ensemble;
    if (checkFhe(options.fhe) === 'simulate') {
      const sim = this.simulate(x);
      return Array.from({ length: sim.n }, (_, i) => Array.from(sim.outputs.subarray(i * sim.outputSize, (i + 1) * sim.outputSize)));
    }
    return this.decisionFunction(x, options).map((m) => {
      if (e.postTransform === 'sigmoid') return softmaxF32([0, m[0] as number]);
      if (e.postTransform === 'softmax') return softmaxF32(m);
      return m;
    });
  }

  /** Class labels (first maximum wins ties) or regression values; `fhe: 'simulate'` takes the circuit's predictions. */
  predict(x: number[][], options: FhePredictOptions = {}): number[] {
    if (checkFhe(options.fhe) === 'simulate') {
      const p = this.simulate(x).predictions;
      return this.kind === 'regressor' ? p : p.map((c) => (this.classes_ as number[])[c] as number);
    }
    if (this.kind === 'regressor') return this.decisionFunction(x, options).map((m) => m[0] as number);
    const classes = this.classes_ as number[];
    return this.predictProba(x, options).map((p) => {
      let best = 0;
      for (let i = 1; i < p.length; i++) if ((p[i] as number) > (p[best] as number)) best = i;
      return classes[best] as number;
    });
  }

  /** `simulateCircuit` on the compiled circuit with the normalized rows. */
  private simulate(x: number[][]): ReturnType<typeof simulateCircuit> {
    const circuit = this.compiled();
    return simulateCircuit(circuit, this.fitted().quantizer.normalize(x));
  }
}

/** Validate the `fhe` mode. */
function checkFhe(fhe: unknown): 'disable' | 'simulate' {
  const f = fhe ?? 'disable';
  if (f !== 'disable' && f !== 'simulate') throw new ConfigError(`fhe must be 'disable' or 'simulate', received ${JSON.stringify(f)} (real FHE execution is not available in tfjs-qat).`);
  return f;
}

/** Softmax exactly as the circuit's output dequantizer computes it (float32 storage, float64 sum). */
function softmaxF32(m: readonly number[]): number[] {
  const mx = Math.max(...m);
  const ex = m.map((v) => Math.exp(v - mx));
  const sum = ex.reduce((a, b) => a + b, 0);
  return ex.map((v) => Math.fround(Math.fround(v) / sum));
}

/** Put a loaded fitted state into a fresh estimator. */
export function restoreTreeEstimator<T extends FheTreeEstimator>(m: T, state: ReturnType<typeof readTreeModel>['state']): T {
  if (state.quantized.ensemble.kind !== m.kind) throw new ConfigError(`the saved trees are a ${state.quantized.ensemble.kind}, but ${m.constructor.name} is a ${m.kind}.`);
  m.quantizer_ = state.quantizer;
  m.ensemble_ = state.ensemble;
  m.quantized_ = state.quantized;
  if (state.classes !== null) m.classes_ = state.classes;
  return m;
}
