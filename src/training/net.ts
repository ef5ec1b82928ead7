/**
 * NeuralNet: a skorch-style estimator around any tfjs LayersModel builder. It knows no layer types:
 * `fit -> fitLoop -> runEpoch -> trainStep`, each overridable; callbacks observe and steer training.
 */
import { gatherRows } from './batches.js';
import { ensureBackend } from '../backend/use_backend.js';
import { compileEstimator, type CompiledEstimator, type FheEstimatorLike } from '../export/estimator_fhe.js';
import type { ExportCircuitOptions } from '../export/to_circuit.js';
import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError, NotInitializedError } from '../errors.js';
import { resolveCallbacks, type BatchContext, type Callback, type FitData, type GradContext, type HookName, type TrainableVariableInfo, type TrainingContext } from './callback.js';
import { EpochTimer } from './callbacks/epoch_timer.js';
import { PrintLog } from './callbacks/print_log.js';
import { toFeatures, toRegressionTargets, type FeatureInput, type TargetInput } from './data.js';
import { History } from './history.js';
import { NET_OPTION_KEYS, resolveNetOptions, type Criterion, type ModuleFactory, type NeuralNetOptions, type ResolvedNetOptions } from './net_options.js';
import { makeOptimizer, setLearningRate } from './optimizers.js';
import { applyCallbackParams, paramsFor, validateParamKey } from './params.js';
import { pruneEstimator } from './prune.js';
import { deriveSeed, makeRng, makeStatefulRng, shuffleInPlace, withMathRandom, type StatefulRng } from './rng.js';
import { splitIndices } from './split.js';
import { loadParams, saveParams } from './persistence.js';
import { ParallelSession, type ParallelHost } from './parallel/session.js';
import { withVariableOnlyGradients } from '../layers/grad_scope.js';

/** Targets encoded for the loss: a float tensor `[n, nOutputs]` plus optional class indices for stratifying. */
export interface EncodedTargets {
  readonly tensor: tf.Tensor2D;
  readonly nOutputs: number;
  readonly strata?: Int32Array;
}

/** Rows per forward pass at prediction and validation time. */
const EVAL_BATCH = 1024;

/**
 * Generic estimator. `P` is what `predict` returns (raw outputs `number[][]` here).
 * @example
 * const net = new NeuralNet({ module: ({ inputDim, nOutputs }) => mlp(inputDim, nOutputs), maxEpochs: 20 });
 * await net.fit(X, y); const out = net.predict(X);
 */
export class NeuralNet<P = number[][]> {
  /** Flat parameters as given (top-level and `prefix__key` entries). */
  protected params: Record<string, unknown> = {};
  /** The built model (fitted state). */
  module_: tf.LayersModel | undefined;
  /** The optimizer (fitted state). */
  optimizer_: tf.Optimizer | undefined;
  /** Named callbacks in call order (fitted state). */
  callbacks_: Array<[string, Callback]> = [];
  /** Training history. */
  history: History = new History();
  /** Shape of one sample seen at initialization. */
  sampleShape_: number[] | undefined;
  /** Number of model outputs. */
  nOutputs_: number | undefined;
  /** True after initialize (and after loadParams). */
  initialized_ = false;
  protected rng_: StatefulRng = makeStatefulRng(0);
  protected stopRequested = false;
  protected trainableVars_: TrainableVariableInfo[] = [];
  /** Worker threads of the running fit when `workers` > 1 (src/training/parallel), else null. */
  protected parallel_: ParallelSession | null = null;

  constructor(options: NeuralNetOptions = {}) {
    this.setParams(options as Record<string, unknown>);
  }

  // ---------- parameters ----------

  /** Loss used when `criterion` is not given. */
  protected defaultCriterion(): Criterion { return 'mse'; }
  /** Whether splits stratify by default. */
  protected stratifiedByDefault(): boolean { return false; }
  /** Module used when `module` is not given. */
  protected defaultModule(): ModuleFactory | undefined { return undefined; }
  /** Option keys a subclass adds. */
  protected extraParamKeys(): readonly string[] { return []; }
  /** Default named callbacks (plus those the module contributes); PrintLog always runs last. */
  protected defaultCallbacks(all: Readonly<Record<string, unknown>> = this.params): Array<[string, Callback]> {
    const m = all['module'] ?? this.defaultModule();
    const fromModule = typeof m === 'function' ? ((m as ModuleFactory).moduleCallbacks?.(paramsFor(all, 'module')) ?? []) : [];
    return [['epochTimer', new EpochTimer()], ...fromModule, ['printLog', new PrintLog()]];
  }

  /** Resolved options (defaults applied, validated). */
  get options(): ResolvedNetOptions {
    return resolveNetOptions(this.params, { criterion: this.defaultCriterion(), stratified: this.stratifiedByDefault() });
  }

  /** The module builder in use (`module` or the class default). */
  currentModule(): ModuleFactory {
    return this.moduleFactory();
  }

  /** The module builder in use. */
  protected moduleFactory(): ModuleFactory {
    const m = this.options.module ?? this.defaultModule();
    if (m === undefined) throw new ConfigError('NeuralNet needs a module: pass { module: (params) => tf.LayersModel }');
    return m;
  }

  /** A copy of all parameters, including `module__*`, `optimizer__*` and `callbacks__*` entries. */
  getParams(): Record<string, unknown> {
    return { ...this.params };
  }

  /**
   * Set parameters with skorch routing. Unknown keys throw a ConfigError suggesting the nearest key.
   * Changing module or optimizer parameters of an initialized net resets it (the next `fit` rebuilds);
   * `lr` is applied to the live optimizer; `callbacks__name__param` is applied to the live callback.
   * @example net.setParams({ module__nWBits: 3, callbacks__earlyStopping__patience: 3 })
   */
  setParams(params: Readonly<Record<string, unknown>>): this {
    const next = { ...this.params };
    let reset = false;
    for (const [key, value] of Object.entries(params)) {
      this.validateKey(key, value, next);
      next[key] = value;
      if (key.startsWith('module') || (key.startsWith('optimizer') && key !== 'lr') || key === 'criterion') reset = true;
    }
    resolveNetOptions(next, { criterion: this.defaultCriterion(), stratified: this.stratifiedByDefault() });
    this.params = next;
    if (reset && this.initialized_) this.initialized_ = false;
    if (this.initialized_) {
      if ('lr' in params && this.optimizer_ !== undefined) setLearningRate(this.optimizer_, this.options.lr);
      if (Object.keys(params).some((k) => k.startsWith('callbacks'))) this.initializeCallbacks();
    }
    return this;
  }

  private validateKey(key: string, value: unknown, all: Readonly<Record<string, unknown>>): void {
    validateParamKey(key, value, all, {
      topKeys: [...NET_OPTION_KEYS, ...this.extraParamKeys()],
      moduleKeys: this.moduleKeys(all),
      callbackNames: () => this.callbackEntries(all).map(([n]) => n),
    });
  }

  private moduleKeys(all: Readonly<Record<string, unknown>>): readonly string[] {
    const m = all['module'] ?? this.defaultModule();
    return typeof m === 'function' ? ((m as ModuleFactory).paramNames ?? []) : [];
  }

  /** Defaults + user callbacks + `callbacks__name` replacements, before parameters are applied. */
  private callbackEntries(all: Readonly<Record<string, unknown>>): Array<[string, Callback]> {
    const user = Array.isArray(all['callbacks']) ? (all['callbacks'] as Parameters<typeof resolveCallbacks>[1]) : [];
    const overrides = Object.entries(paramsFor(all, 'callbacks')).filter(([k]) => !k.includes('__'))
      .map(([k, v]) => [k, (v ?? null) as Callback | null] as const);
    return resolveCallbacks(resolveCallbacks(this.defaultCallbacks(all), user), overrides);
  }

  // ---------- initialization ----------

  /** (Re)build callbacks with their parameters and reset their state. */
  protected initializeCallbacks(): void {
    const list = this.callbackEntries(this.params);
    applyCallbackParams(list, paramsFor(this.params, 'callbacks'));
    for (const [, cb] of list) cb.initialize?.();
    const isLast = (c: Callback): boolean => (c as { runLast?: unknown }).runLast === true;
    this.callbacks_ = [...list.filter(([, c]) => !isLast(c)), ...list.filter(([, c]) => isLast(c))];
  }

  /**
   * Build the module, optimizer, callbacks and a fresh history. Sizes come from `shape`, or from the
   * previous initialization. The same seed always gives the same initial weights.
   * @throws ConfigError when the sizes are unknown (call `fit` or pass `{inputShape, nOutputs}`).
   */
  initialize(shape?: { inputShape: readonly number[]; nOutputs: number }): this {
    const inputShape = shape?.inputShape ?? this.sampleShape_;
    const nOutputs = shape?.nOutputs ?? this.nOutputs_;
    if (inputShape === undefined || nOutputs === undefined) {
      throw new ConfigError('initialize: the input shape and number of outputs are unknown; call fit(X, y) or initialize({ inputShape, nOutputs })');
    }
    this.disposeModel();
    const opts = this.options;
    const factory = this.moduleFactory();
    const moduleParams = { ...paramsFor(this.params, 'module'), inputShape: [...inputShape], inputDim: inputShape.reduce((a, b) => a * b, 1), nOutputs };
    const initRng = makeRng(deriveSeed(opts.seed, 'init'));
    this.module_ = withMathRandom(initRng, () => {
      const model = factory(moduleParams);
      tf.tidy(() => { model.apply(tf.zeros([1, ...inputShape]), { training: false }); });
      return model;
    });
    this.optimizer_ = makeOptimizer(opts.optimizer, opts.lr, paramsFor(this.params, 'optimizer'));
    this.trainableVars_ = this.module_.layers.flatMap((layer) => layer.trainableWeights.map((w) => {
      const v = w.read();
      if (!(v instanceof tf.Variable)) throw new ConfigError(`layer ${layer.name}: weight ${w.name} is not a tf.Variable`);
      return { name: v.name, layerName: layer.name, variable: v };
    }));
    this.sampleShape_ = [...inputShape];
    this.nOutputs_ = nOutputs;
    this.history = new History();
    this.rng_ = makeStatefulRng(deriveSeed(opts.seed, 'train'));
    this.initializeCallbacks();
    this.initialized_ = true;
    return this;
  }

  /** Free the model's and optimizer's tensors. */
  dispose(): void {
    this.disposeModel();
    this.initialized_ = false;
  }

  private disposeModel(): void {
    this.module_?.dispose();
    this.optimizer_?.dispose();
    this.module_ = undefined;
    this.optimizer_ = undefined;
  }

  /** The model; throws NotInitializedError before initialize/fit/loadParams. */
  get model(): tf.LayersModel {
    if (!this.initialized_ || this.module_ === undefined) {
      throw new NotInitializedError(`This ${this.constructor.name} is not initialized yet; call fit(X, y) (or loadParams) before using it`);
    }
    return this.module_;
  }

  // ---------- targets (overridden by subclasses) ----------

  /** Encode `y` for the loss. `fitting` is true inside fit (may learn classes / scaling). */
  protected encodeTargets(y: TargetInput, nSamples: number, fitting: boolean): EncodedTargets {
    void fitting;
    return encodeRaw(y, nSamples);
  }

  /** Extra per-epoch validation metrics from outputs and encoded targets (classifier: validAcc). */
  protected validationMetrics(outputs: tf.Tensor, targets: tf.Tensor): Record<string, number> {
    void outputs; void targets;
    return {};
  }

  // ---------- fitting ----------

  /**
   * Train for `maxEpochs` epochs. Re-initializes first unless `warmStart` is true and the net is initialized.
   * @throws DataError on bad X or y.
   */
  async fit(X: FeatureInput, y: TargetInput): Promise<this> {
    if (!this.options.warmStart || !this.initialized_) this.initialized_ = false;
    return this.partialFit(X, y);
  }

  /** Train for `epochs` (default `maxEpochs`) more epochs without re-initializing (initializes if needed). */
  async partialFit(X: FeatureInput, y: TargetInput, epochs?: number): Promise<this> {
    await ensureBackend();
    const feats = toFeatures(X, 'X', this.initialized_ ? this.sampleShape_ : undefined);
    let targets: EncodedTargets | undefined;
    try {
      targets = this.encodeTargets(y, feats.nSamples, !this.initialized_);
      if (!this.initialized_) this.initialize({ inputShape: feats.sampleShape, nOutputs: targets.nOutputs });
      else if (targets.nOutputs !== this.nOutputs_) {
        throw new DataError(`y has ${targets.nOutputs} outputs but the net was initialized with ${String(this.nOutputs_)}; fit with warmStart: false to rebuild`);
      }
      await this.fitLoop(feats.tensor, targets, epochs ?? this.options.maxEpochs);
    } finally {
      feats.tensor.dispose();
      targets?.tensor.dispose();
    }
    return this;
  }

  /** The context passed to hooks. */
  protected context(data?: FitData): TrainingContext {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const net = this;
    return {
      ...(data !== undefined ? { data } : {}),
      get epoch() { return net.history.length; },
      get history() { return net.history; },
      get model() { return net.model; },
      net: this as NeuralNet<unknown>,
      stopTraining: () => { net.stopRequested = true; },
    };
  }

  /** Call `hook` on every callback in order. */
  protected async notify(hook: HookName, ctx: TrainingContext | BatchContext): Promise<void> {
    for (const [, cb] of this.callbacks_) {
      const fn = cb[hook] as ((c: TrainingContext | BatchContext) => void | Promise<void>) | undefined;
      if (fn !== undefined) await fn.call(cb, ctx);
    }
  }

  /** Split, then run epochs until done or a callback stops training. */
  protected async fitLoop(X: tf.Tensor, targets: EncodedTargets, epochs: number): Promise<void> {
    const opts = this.options;
    const n = X.shape[0] ?? 0;
    const split = opts.trainSplit === null ? null : splitIndices(n, opts.trainSplit, makeRng(deriveSeed(opts.seed, 'split')), targets.strata);
    const trainIdx = split?.train ?? Int32Array.from({ length: n }, (_, i) => i);
    const ctx = this.context({ X, Y: targets.tensor, trainIdx, validIdx: split?.valid ?? null });
    this.stopRequested = false;
    // ---- data-parallel hook (src/training/parallel): only when `workers` is not 1 ----
    if (opts.workers !== 1) {
      const rows = opts.batchSize === -1 ? trainIdx.length : Math.min(opts.batchSize, trainIdx.length);
      this.parallel_ = await ParallelSession.start(this.parallelHost(), opts.workers, X, targets.tensor, rows);
    }
    try {
      await this.notify('onTrainBegin', ctx);
      for (let e = 0; e < epochs && !this.stopRequested; e++) {
        this.history.newEpoch();
        await this.notify('onEpochBegin', ctx);
        await this.runEpoch(X, targets.tensor, trainIdx, ctx);
        if (split !== null) this.validate(X, targets.tensor, split.valid);
        this.recordBestFlags();
        await this.notify('onEpochEnd', ctx);
      }
      await this.notify('onTrainEnd', ctx);
    } finally {
      await this.parallel_?.close();
      this.parallel_ = null;
    }
  }

  /** What the data-parallel session reads from this estimator (live getters). */
  private parallelHost(): ParallelHost {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const net = this;
    return {
      get model() { return net.model; },
      get optimizer() { if (net.optimizer_ === undefined) throw new NotInitializedError('no optimizer'); return net.optimizer_; },
      get vars() { return net.trainableVars_; },
      get callbacks() { return net.callbacks_; },
      get criterion() { return net.options.criterion; },
      rng: () => net.rng_.next(),
      computeLoss: (yTrue, out) => net.computeLoss(yTrue, out),
    };
  }

  /** Record `<key>Best` for trainLoss, validLoss (lower is better) and validAcc (higher is better). */
  protected recordBestFlags(): void {
    for (const [key, lower] of [['trainLoss', true], ['validLoss', true], ['validAcc', false]] as const) {
      const col = this.history.column(key);
      const cur = col[col.length - 1];
      if (typeof cur !== 'number') continue;
      const prev = col.slice(0, -1).filter((v): v is number => typeof v === 'number');
      this.history.record(`${key}Best`, prev.every((p) => (lower ? cur < p : cur > p)));
    }
  }

  /** One pass over shuffled training batches; records `trainLoss`. */
  protected async runEpoch(X: tf.Tensor, Y: tf.Tensor, trainIdx: Int32Array, ctx: TrainingContext): Promise<void> {
    const order = shuffleInPlace(Int32Array.from(trainIdx), this.rng_.next);
    const bs = this.options.batchSize === -1 ? order.length : this.options.batchSize;
    const nBatches = Math.ceil(order.length / bs);
    let sum = 0;
    for (let b = 0; b < nBatches; b++) {
      const idx = order.subarray(b * bs, Math.min(order.length, (b + 1) * bs));
      const base = { ...ctx, epoch: ctx.epoch, batch: b, nBatches, batchSize: idx.length, training: true };
      await this.notify('onBatchBegin', base);
      const loss = this.parallel_ !== null ? await this.parallel_.step(idx, ctx) : this.trainStep(X, Y, idx, ctx);
      sum += loss * idx.length;
      this.history.newBatch();
      this.history.recordBatch('trainLoss', loss);
      this.history.recordBatch('trainBatchSize', idx.length);
      await this.notify('onBatchEnd', { ...base, loss });
    }
    this.history.record('trainLoss', sum / Math.max(1, order.length));
  }

  /** The loss of `outputs` against encoded targets. */
  protected computeLoss(yTrue: tf.Tensor, outputs: tf.Tensor): tf.Scalar {
    const c = this.options.criterion;
    // tfjs' own loss: its gradients are what every validated recipe was trained with. The fused, faster
    // `softmaxCrossEntropy` (gradients within ~1e-7) is opt-in: `criterion: softmaxCrossEntropy`.
    if (c === 'crossEntropy') return tf.losses.softmaxCrossEntropy(yTrue, outputs) as tf.Scalar;
    if (c === 'mse') return tf.losses.meanSquaredError(yTrue, outputs) as tf.Scalar;
    return c(yTrue, outputs);
  }

  /**
   * One optimization step on the rows `idx`: training-mode forward, gradients, `onGradComputed`, update.
   * Returns the batch loss.
   */
  protected trainStep(X: tf.Tensor, Y: tf.Tensor, idx: Int32Array, ctx: TrainingContext): number {
    const model = this.model;
    const opt = this.optimizer_;
    if (opt === undefined) throw new NotInitializedError('trainStep: no optimizer; call initialize first');
    const vars = this.trainableVars_;
    const loss = withMathRandom(this.rng_.next, () => tf.tidy(() => {
      const xb = gatherRows(X, idx);
      const yb = gatherRows(Y, idx);
      // gradients with respect to the variables only: nothing differentiates the data batch (grad_scope.ts)
      const { value, grads } = tf.variableGrads(() => withVariableOnlyGradients(() => this.computeLoss(yb, model.apply(xb, { training: true }) as tf.Tensor)), vars.map((v) => v.variable));
      // Variables unused in this forward (e.g. a quantizer's learned clip during statistics collection) get zeros,
      // so the optimizer always sees every variable in the same order.
      for (const v of vars) if (grads[v.name] === undefined) grads[v.name] = tf.zerosLike(v.variable);
      if (this.callbacks_.some(([, c]) => c.onGradComputed !== undefined)) {
        const gctx: GradContext = { ...ctx, epoch: ctx.epoch, grads, variables: vars };
        for (const [, cb] of this.callbacks_) cb.onGradComputed?.(gctx);
      }
      opt.applyGradients(vars.map((v) => {
        const g = grads[v.name] ?? tf.zerosLike(v.variable);
        return { name: v.name, tensor: g };
      }));
      return value;
    }));
    const out = loss.dataSync()[0] ?? NaN;
    loss.dispose();
    return out;
  }

  /** Validation loss and metrics on rows `idx`; records `validLoss` (+ subclass metrics). */
  protected validate(X: tf.Tensor, Y: tf.Tensor, idx: Int32Array): void {
    const result = tf.tidy(() => {
      const xv = gatherRows(X, idx);
      const yv = gatherRows(Y, idx);
      const out = this.forward(xv);
      return { loss: this.computeLoss(yv, out), metrics: this.validationMetrics(out, yv) };
    });
    this.history.record('validLoss', result.loss.dataSync()[0] ?? NaN);
    result.loss.dispose();
    for (const [k, v] of Object.entries(result.metrics)) this.history.record(k, v);
  }

  // ---------- inference ----------

  /** Inference-mode forward pass in chunks; returns the raw outputs tensor (caller disposes). */
  protected forward(X: tf.Tensor): tf.Tensor {
    const model = this.model;
    const n = X.shape[0] ?? 0;
    return tf.tidy(() => {
      const parts: tf.Tensor[] = [];
      for (let s = 0; s < n; s += EVAL_BATCH) {
        const xb = tf.slice(X, s, Math.min(EVAL_BATCH, n - s));
        parts.push(model.apply(xb, { training: false }) as tf.Tensor);
      }
      return parts.length === 1 ? (parts[0] as tf.Tensor) : tf.concat(parts, 0);
    });
  }

  /** Raw outputs after the criterion's nonlinearity, as rows. */
  protected outputsFor(X: FeatureInput): tf.Tensor2D {
    void this.model;
    const feats = toFeatures(X, 'X', this.sampleShape_);
    try {
      return tf.tidy(() => {
        const out = this.forward(feats.tensor);
        return (this.options.criterion === 'crossEntropy' ? tf.softmax(out) : out) as tf.Tensor2D;
      });
    } finally {
      feats.tensor.dispose();
    }
  }

  /** Outputs after the nonlinearity (softmax for cross-entropy), one row per sample. */
  predictProba(X: FeatureInput): number[][] {
    const t = this.outputsFor(X);
    const rows = t.arraySync();
    t.dispose();
    return rows;
  }

  /** Predictions; for NeuralNet the same as `predictProba`. */
  predict(X: FeatureInput): P {
    return this.predictProba(X) as unknown as P;
  }

  /**
   * Export the fitted model to a mixed-integer circuit calibrated on X (Concrete ML's `compile`); then
   * `predict(X, {fhe: 'simulate'})` runs it. Returns the circuit and its bit-width report.
   * @throws NotInitializedError before fit; AccumulatorOverflowError / MixedIntegerError from the exporter.
   * @example const { report } = clf.compile(Xtrain); clf.predict(Xtest, { fhe: 'simulate' });
   */
  compile(X: FeatureInput, options: ExportCircuitOptions = {}): CompiledEstimator {
    return compileEstimator(this as unknown as FheEstimatorLike, X, options);
  }

  /** A new unfitted estimator of the same class with the same parameters. */
  clone(): this {
    const Ctor = this.constructor as new (o: NeuralNetOptions) => this;
    return new Ctor(this.getParams() as NeuralNetOptions);
  }

  /** Copies of all model weight values (trainable and not), e.g. to restore the best epoch. */
  getWeightsSnapshot(): tf.Tensor[] {
    return this.model.getWeights().map((w) => w.clone());
  }

  /** Restore weights from `getWeightsSnapshot()` (does not take ownership). */
  setWeightsSnapshot(weights: readonly tf.Tensor[]): void {
    this.model.setWeights([...weights]);
  }

  /**
   * Save weights, quantizer state, pruning masks, optimizer state and history to `dir` (atomically).
   * @example await net.saveParams('out/model');
   */
  async saveParams(dir: string): Promise<void> {
    await saveParams(this as NeuralNet<unknown>, dir);
  }

  /**
   * Load what `saveParams` wrote; the estimator must have the same module parameters.
   * @example const net2 = new NeuralNetClassifier(sameParams); await net2.loadParams('out/model');
   */
  async loadParams(dir: string): Promise<this> {
    await loadParams(this as NeuralNet<unknown>, dir);
    return this;
  }

  /**
   * Structured pruning (Concrete ML `prune`): a new estimator whose hidden layers keep the `1 - fraction`
   * neurons with the largest L2 norm, initialized from this one's weights and fine-tuned on (X, y) for
   * `maxEpochs` epochs (override with `fitParams`). This estimator is unchanged.
   * @throws ConfigError when the module does not support it or fraction is outside [0, 1).
   * @example const small = await clf.prune(X, y, 0.5);
   */
  async prune(X: FeatureInput, y: TargetInput, fraction: number, fitParams: Readonly<Record<string, unknown>> = {}): Promise<this> {
    return pruneEstimator(this, X, y, fraction, fitParams);
  }

  /** Subclass state saved with the parameters (classes, target scaling). */
  protected fittedMeta(): Record<string, unknown> { return {}; }
  /** Restore what `fittedMeta` returned. */
  protected restoreMeta(meta: Readonly<Record<string, unknown>>): void { void meta; }
  /** @internal used by persistence: subclass metadata plus the training generator's position. */
  getFittedMeta(): Record<string, unknown> { return { ...this.fittedMeta(), rngState: this.rng_.state() }; }
  /** @internal used by persistence (call after initialize). */
  setFittedMeta(meta: Readonly<Record<string, unknown>>): void {
    this.restoreMeta(meta);
    const st = meta['rngState'];
    if (typeof st === 'object' && st !== null) this.rng_ = makeStatefulRng(0, st);
  }
}

/** Regression-style targets: numbers or rows of numbers as a float `[n, k]` tensor. */
function encodeRaw(y: TargetInput, nSamples: number): EncodedTargets {
  const { data, nOutputs } = toRegressionTargets(y, nSamples);
  return { tensor: tf.tensor2d(data, [nSamples, nOutputs]), nOutputs };
}
