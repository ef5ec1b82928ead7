/**
 * NeuralNetRegressor: mean squared error, R^2 score (skorch `NeuralNetRegressor`; Concrete ML's module by default).
 * Beyond skorch: targets are standardized internally by default (`targetScaling: 'standard'`), and predictions
 * are returned in the original units; this lets the default lr fit targets like 25..346.
 */
import { predictWithFhe, type FheEstimatorLike, type FheMode } from '../export/estimator_fhe.js';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import { toRegressionTargets, type FeatureInput, type TargetInput } from './data.js';
import { NeuralNet, type EncodedTargets } from './net.js';
import type { Criterion, ModuleFactory, NeuralNetOptions } from './net_options.js';
import { defaultModuleFactory } from './default_module.js';

/** Regressor options: NeuralNet's plus `targetScaling`. */
export interface NeuralNetRegressorOptions extends NeuralNetOptions {
  /** 'standard': train on (y - mean) / std (from the fit data), predict in original units; 'none': raw y. @default 'standard' */
  targetScaling?: 'standard' | 'none';
}

/**
 * Regression estimator. `predict` returns one number per sample (or rows when y had several columns).
 * @example const reg = new NeuralNetRegressor({ module__nLayers: 3 }); await reg.fit(X, y); reg.score(Xt, yt);
 */
export class NeuralNetRegressor extends NeuralNet<number[] | number[][]> {
  /** Per-output mean and std used to scale targets (fitted state). */
  targetMean_: number[] | undefined;
  targetStd_: number[] | undefined;

  constructor(options: NeuralNetRegressorOptions = {}) {
    super(options);
  }

  protected override defaultCriterion(): Criterion { return 'mse'; }
  protected override defaultModule(): ModuleFactory | undefined { return defaultModuleFactory(); }
  protected override extraParamKeys(): readonly string[] { return ['targetScaling']; }

  private scaling(): 'standard' | 'none' {
    const s = this.params['targetScaling'] ?? 'standard';
    if (s !== 'standard' && s !== 'none') throw new ConfigError(`targetScaling must be 'standard' or 'none'; got ${JSON.stringify(s)}`);
    return s;
  }

  protected override encodeTargets(y: TargetInput, nSamples: number, fitting: boolean): EncodedTargets {
    const { data, nOutputs } = toRegressionTargets(y, nSamples);
    if (fitting || this.targetMean_ === undefined) {
      const mean = new Array<number>(nOutputs).fill(0);
      const std = new Array<number>(nOutputs).fill(1);
      if (this.scaling() === 'standard') {
        for (let j = 0; j < nOutputs; j++) {
          let s = 0; let s2 = 0;
          for (let i = 0; i < nSamples; i++) { const v = data[i * nOutputs + j] ?? 0; s += v; s2 += v * v; }
          const m = s / nSamples;
          const sd = Math.sqrt(Math.max(0, s2 / nSamples - m * m));
          mean[j] = m;
          std[j] = sd > 0 ? sd : 1;
        }
      }
      this.targetMean_ = mean;
      this.targetStd_ = std;
    }
    const mean = this.targetMean_;
    const std = this.targetStd_ ?? [];
    for (let i = 0; i < data.length; i++) {
      const j = i % nOutputs;
      data[i] = ((data[i] ?? 0) - (mean[j] ?? 0)) / (std[j] ?? 1);
    }
    return { tensor: tf.tensor2d(data, [nSamples, nOutputs]), nOutputs };
  }

  /**
   * Predicted values in the original units: `number[]` for one target column, else rows. With
   * `{fhe: 'simulate' | 'disable'}` the compiled circuit runs instead; call `compile(X)` first.
   */
  override predict(X: FeatureInput, options: { fhe?: FheMode } = {}): number[] | number[][] {
    if (options.fhe !== undefined) return predictWithFhe(this as unknown as FheEstimatorLike, X, { fhe: options.fhe }) as number[] | number[][];
    const rows = super.predictProba(X);
    const mean = this.targetMean_ ?? [];
    const std = this.targetStd_ ?? [];
    const un = rows.map((r) => r.map((v, j) => v * (std[j] ?? 1) + (mean[j] ?? 0)));
    return (this.nOutputs_ ?? 1) === 1 ? un.map((r) => r[0] ?? NaN) : un;
  }

  /** Regressors have no probabilities: same as `predict` as rows (kept for API symmetry). */
  override predictProba(X: FeatureInput): number[][] {
    const p = this.predict(X);
    return p.map((v) => (Array.isArray(v) ? v : [v]));
  }

  /** Coefficient of determination R^2, averaged over outputs (sklearn `r2_score`, uniform average). */
  score(X: FeatureInput, y: TargetInput): number {
    const pred = this.predictProba(X);
    const { data, nOutputs } = toRegressionTargets(y, pred.length);
    let total = 0;
    for (let j = 0; j < nOutputs; j++) {
      let mean = 0;
      for (let i = 0; i < pred.length; i++) mean += data[i * nOutputs + j] ?? 0;
      mean /= pred.length;
      let ssRes = 0; let ssTot = 0;
      for (let i = 0; i < pred.length; i++) {
        const t = data[i * nOutputs + j] ?? 0;
        ssRes += (t - (pred[i]?.[j] ?? 0)) ** 2;
        ssTot += (t - mean) ** 2;
      }
      total += ssTot === 0 ? (ssRes === 0 ? 1 : 0) : 1 - ssRes / ssTot;
    }
    return total / nOutputs;
  }

  protected override fittedMeta(): Record<string, unknown> {
    return { targetMean: this.targetMean_ ?? null, targetStd: this.targetStd_ ?? null };
  }

  protected override restoreMeta(meta: Readonly<Record<string, unknown>>): void {
    const m = meta['targetMean'];
    const s = meta['targetStd'];
    this.targetMean_ = Array.isArray(m) ? (m as number[]) : undefined;
    this.targetStd_ = Array.isArray(s) ? (s as number[]) : undefined;
  }
}
