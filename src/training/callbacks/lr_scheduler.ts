/**
 * LRScheduler: set the optimizer's learning rate each epoch (skorch `LRScheduler`). Policies:
 * step (`lr0 * gamma^floor(e / stepSize)`), exponential (`lr0 * gamma^e`), cosine
 * (`etaMin + (lr0 - etaMin)(1 + cos(pi e / tMax)) / 2`), reduceOnPlateau (times `factor` after `patience`
 * epochs without improvement of `monitor`). `e` = epochs completed; records `lr`.
 */
import { ConfigError } from '../../errors.js';
import type { Callback, TrainingContext } from '../callback.js';
import { getLearningRate, setLearningRate } from '../optimizers.js';
import { isImprovement, monitoredValue } from './monitor.js';

/** Scheduler policies. */
export type LRPolicy = 'step' | 'exponential' | 'cosine' | 'reduceOnPlateau';

/** LRScheduler options. */
export interface LRSchedulerOptions {
  policy: LRPolicy;
  /** step: epochs per decay. @default 10 */
  stepSize?: number;
  /** step/exponential decay factor. @default 0.1 (step), 0.95 (exponential) */
  gamma?: number;
  /** cosine: period in epochs. @default the net's maxEpochs */
  tMax?: number;
  /** cosine: final learning rate. @default 0 */
  etaMin?: number;
  /** reduceOnPlateau: monitored key. @default 'validLoss' */
  monitor?: string;
  /** reduceOnPlateau: multiplier. @default 0.1 */
  factor?: number;
  /** reduceOnPlateau: epochs without improvement. @default 10 */
  patience?: number;
  /** reduceOnPlateau: relative threshold. @default 1e-4 */
  threshold?: number;
  /** reduceOnPlateau: lower bound. @default 0 */
  minLr?: number;
  /** reduceOnPlateau: lower values are better. @default true */
  lowerIsBetter?: boolean;
}

/** Learning-rate schedule per epoch. */
export class LRScheduler implements Callback {
  policy: LRPolicy;
  stepSize: number;
  gamma: number;
  tMax: number | undefined;
  etaMin: number;
  monitor: string;
  factor: number;
  patience: number;
  threshold: number;
  minLr: number;
  lowerIsBetter: boolean;
  private best: number | undefined;
  private wait = 0;
  private startEpoch = 0;

  constructor(options: LRSchedulerOptions) {
    const policies: LRPolicy[] = ['step', 'exponential', 'cosine', 'reduceOnPlateau'];
    if (!policies.includes(options.policy)) throw new ConfigError(`LRScheduler: unknown policy '${String(options.policy)}'; use ${policies.join(', ')}`);
    this.policy = options.policy;
    this.stepSize = options.stepSize ?? 10;
    this.gamma = options.gamma ?? (options.policy === 'step' ? 0.1 : 0.95);
    this.tMax = options.tMax;
    this.etaMin = options.etaMin ?? 0;
    this.monitor = options.monitor ?? 'validLoss';
    this.factor = options.factor ?? 0.1;
    this.patience = options.patience ?? 10;
    this.threshold = options.threshold ?? 1e-4;
    this.minLr = options.minLr ?? 0;
    this.lowerIsBetter = options.lowerIsBetter ?? true;
  }

  initialize(): void {
    this.best = undefined;
    this.wait = 0;
  }

  /** The learning rate for the epoch after `e` completed epochs of a schedule starting at `lr0`. */
  lrAt(e: number, lr0: number, maxEpochs: number): number {
    switch (this.policy) {
      case 'step': return lr0 * this.gamma ** Math.floor(e / this.stepSize);
      case 'exponential': return lr0 * this.gamma ** e;
      case 'cosine': {
        const T = this.tMax ?? maxEpochs;
        return this.etaMin + (lr0 - this.etaMin) * (1 + Math.cos((Math.PI * Math.min(e, T)) / T)) / 2;
      }
      case 'reduceOnPlateau': return lr0;
      default: {
        const never: never = this.policy;
        throw new ConfigError(`LRScheduler: unknown policy ${String(never)}`);
      }
    }
  }

  onTrainBegin(ctx: TrainingContext): void {
    this.startEpoch = ctx.epoch;
  }

  onEpochBegin(ctx: TrainingContext): void {
    const opt = ctx.net.optimizer_;
    if (opt === undefined) return;
    if (this.policy !== 'reduceOnPlateau') {
      const e = ctx.epoch - 1 - this.startEpoch;
      setLearningRate(opt, this.lrAt(e, ctx.net.options.lr, ctx.net.options.maxEpochs));
    }
    ctx.history.record('lr', getLearningRate(opt));
  }

  onEpochEnd(ctx: TrainingContext): void {
    if (this.policy !== 'reduceOnPlateau') return;
    const opt = ctx.net.optimizer_;
    if (opt === undefined) return;
    const v = monitoredValue(ctx, this.monitor, 'LRScheduler');
    if (isImprovement(v, this.best, this.lowerIsBetter, this.threshold, 'rel')) {
      this.best = v;
      this.wait = 0;
      return;
    }
    if (++this.wait > this.patience) {
      setLearningRate(opt, Math.max(this.minLr, getLearningRate(opt) * this.factor));
      this.wait = 0;
    }
  }
}
