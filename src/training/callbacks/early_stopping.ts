/**
 * EarlyStopping: stop when the monitored value has not improved for `patience` epochs
 * (skorch `EarlyStopping`); stops through `ctx.stopTraining()`, never by throwing.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Callback, TrainingContext } from '../callback.js';
import { isImprovement, monitoredValue, type ThresholdMode } from './monitor.js';

/** EarlyStopping options. */
export interface EarlyStoppingOptions {
  /** History key. @default 'validLoss' */
  monitor?: string;
  /** Epochs without improvement before stopping. @default 5 */
  patience?: number;
  /** Minimum improvement. @default 1e-4 */
  threshold?: number;
  /** @default 'rel' */
  thresholdMode?: ThresholdMode;
  /** @default true */
  lowerIsBetter?: boolean;
  /** Restore the best epoch's weights at the end of training. @default false */
  restoreBestWeights?: boolean;
  /** Message sink when stopping (only when the net is verbose). @default process.stdout */
  sink?: (line: string) => void;
}

/** Stops training on a plateau. */
export class EarlyStopping implements Callback {
  monitor: string;
  patience: number;
  threshold: number;
  thresholdMode: ThresholdMode;
  lowerIsBetter: boolean;
  restoreBestWeights: boolean;
  sink: (line: string) => void;
  /** Best value seen, and its epoch. */
  bestValue: number | undefined;
  bestEpoch = 0;
  private wait = 0;
  private snapshot: tf.Tensor[] | undefined;

  constructor(options: EarlyStoppingOptions = {}) {
    this.monitor = options.monitor ?? 'validLoss';
    this.patience = options.patience ?? 5;
    this.threshold = options.threshold ?? 1e-4;
    this.thresholdMode = options.thresholdMode ?? 'rel';
    this.lowerIsBetter = options.lowerIsBetter ?? true;
    this.restoreBestWeights = options.restoreBestWeights ?? false;
    this.sink = options.sink ?? ((l) => { process.stdout.write(`${l}\n`); });
  }

  initialize(): void {
    this.bestValue = undefined;
    this.bestEpoch = 0;
    this.wait = 0;
    this.dropSnapshot();
  }

  onTrainBegin(): void {
    this.wait = 0;
  }

  onEpochEnd(ctx: TrainingContext): void {
    const v = monitoredValue(ctx, this.monitor, 'EarlyStopping');
    if (isImprovement(v, this.bestValue, this.lowerIsBetter, this.threshold, this.thresholdMode)) {
      this.bestValue = v;
      this.bestEpoch = ctx.epoch;
      this.wait = 0;
      if (this.restoreBestWeights) {
        this.dropSnapshot();
        this.snapshot = ctx.net.getWeightsSnapshot();
      }
      return;
    }
    this.wait++;
    if (this.wait >= this.patience) {
      if (ctx.net.options.verbose > 0) {
        this.sink(`Stopping since ${this.monitor} has not improved in the last ${this.patience} epochs (best ${String(this.bestValue)} at epoch ${this.bestEpoch}).`);
      }
      ctx.stopTraining();
    }
  }

  onTrainEnd(ctx: TrainingContext): void {
    if (this.restoreBestWeights && this.snapshot !== undefined) {
      ctx.net.setWeightsSnapshot(this.snapshot);
      ctx.history.record('restoredEpoch', this.bestEpoch);
    }
    this.dropSnapshot();
  }

  private dropSnapshot(): void {
    this.snapshot?.forEach((t) => t.dispose());
    this.snapshot = undefined;
  }
}
