/**
 * Checkpoint: save the net (saveParams) to a directory whenever the monitored value is the best so far
 * (skorch `Checkpoint`, monitor 'validLossBest'). Records `eventCpt: true` on saving epochs.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Callback, TrainingContext } from '../callback.js';
import { isImprovement, monitoredValue } from './monitor.js';

/** Checkpoint options. */
export interface CheckpointOptions {
  /** Directory to write (replaced atomically each time). */
  dirname: string;
  /** A boolean history key (e.g. 'validLossBest') or a numeric key tracked with `lowerIsBetter`. @default 'validLossBest' */
  monitor?: string;
  /** For numeric monitors. @default true */
  lowerIsBetter?: boolean;
  /** Put the best weights back into the net at the end of training. @default false */
  loadBest?: boolean;
}

/** Saves the best epoch. */
export class Checkpoint implements Callback {
  dirname: string;
  monitor: string;
  lowerIsBetter: boolean;
  loadBest: boolean;
  private best: number | undefined;
  private snapshot: tf.Tensor[] | undefined;

  constructor(options: CheckpointOptions) {
    this.dirname = options.dirname;
    this.monitor = options.monitor ?? 'validLossBest';
    this.lowerIsBetter = options.lowerIsBetter ?? true;
    this.loadBest = options.loadBest ?? false;
  }

  initialize(): void {
    this.best = undefined;
    this.drop();
  }

  async onEpochEnd(ctx: TrainingContext): Promise<void> {
    const raw = ctx.history.lastValue(this.monitor);
    let save: boolean;
    if (typeof raw === 'boolean') save = raw;
    else {
      const v = monitoredValue(ctx, this.monitor, 'Checkpoint');
      save = isImprovement(v, this.best, this.lowerIsBetter, 0, 'abs');
      if (save) this.best = v;
    }
    ctx.history.record('eventCpt', save);
    if (!save) return;
    await ctx.net.saveParams(this.dirname);
    if (this.loadBest) {
      this.drop();
      this.snapshot = ctx.net.getWeightsSnapshot();
    }
  }

  onTrainEnd(ctx: TrainingContext): void {
    if (this.loadBest && this.snapshot !== undefined) ctx.net.setWeightsSnapshot(this.snapshot);
    this.drop();
  }

  private drop(): void {
    this.snapshot?.forEach((t) => t.dispose());
    this.snapshot = undefined;
  }
}
