/**
 * EpochScoring: compute a score each epoch on the validation rows (or the training rows with `onTrain`)
 * and record it with a `<name>Best` flag (skorch `EpochScoring`).
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../errors.js';
import type { Callback, TrainingContext } from '../callback.js';
import type { NeuralNet } from '../net.js';

/** A scoring function on the rows' features and encoded targets. */
export type ScoringFn = (net: NeuralNet<unknown>, X: tf.Tensor, Y: tf.Tensor) => number;

/** EpochScoring options. */
export interface EpochScoringOptions {
  /** 'accuracy' (argmax of outputs vs one-hot targets), 'r2', 'mse' or a function. */
  scoring: 'accuracy' | 'r2' | 'mse' | ScoringFn;
  /** History key. @default the scoring name (prefixed 'train'/'valid', e.g. 'validR2') */
  name?: string;
  /** @default false for 'accuracy'/'r2', true for 'mse' and functions */
  lowerIsBetter?: boolean;
  /** Score the training rows instead of the validation rows. @default false */
  onTrain?: boolean;
}

function builtin(kind: 'accuracy' | 'r2' | 'mse'): ScoringFn {
  return (net, X, Y) => {
    const m = net.model;
    const v = tf.tidy(() => {
      const out = m.apply(X, { training: false }) as tf.Tensor;
      if (kind === 'accuracy') return tf.mean(tf.cast(tf.equal(tf.argMax(out, 1), tf.argMax(Y, 1)), 'float32'));
      const res = tf.sum(tf.square(tf.sub(Y, out)), 0);
      if (kind === 'mse') return tf.mean(tf.square(tf.sub(Y, out)));
      const tot = tf.sum(tf.square(tf.sub(Y, tf.mean(Y, 0))), 0);
      return tf.mean(tf.sub(1, tf.div(res, tf.maximum(tot, 1e-12))));
    });
    const x = v.dataSync()[0] ?? NaN;
    v.dispose();
    return x;
  };
}

/** Records a score per epoch. */
export class EpochScoring implements Callback {
  scoring: EpochScoringOptions['scoring'];
  name: string;
  lowerIsBetter: boolean;
  onTrain: boolean;
  private best: number | undefined;

  constructor(options: EpochScoringOptions) {
    this.scoring = options.scoring;
    this.onTrain = options.onTrain ?? false;
    const label = typeof options.scoring === 'string' ? (options.scoring === 'accuracy' ? 'Acc' : options.scoring === 'r2' ? 'R2' : 'Mse') : 'Score';
    this.name = options.name ?? `${this.onTrain ? 'train' : 'valid'}${label}`;
    this.lowerIsBetter = options.lowerIsBetter ?? (typeof options.scoring === 'function' || options.scoring === 'mse');
  }

  initialize(): void {
    this.best = undefined;
  }

  onEpochEnd(ctx: TrainingContext): void {
    const d = ctx.data;
    if (d === undefined) return;
    const idx = this.onTrain ? d.trainIdx : d.validIdx;
    if (idx === null) return;
    const fn = typeof this.scoring === 'function' ? this.scoring : builtin(this.scoring);
    if (typeof this.scoring === 'string' && !['accuracy', 'r2', 'mse'].includes(this.scoring)) {
      throw new ConfigError(`EpochScoring: unknown scoring '${String(this.scoring)}'; use 'accuracy', 'r2', 'mse' or a function`);
    }
    const ix = tf.tensor1d(idx, 'int32');
    const X = tf.gather(d.X, ix);
    const Y = tf.gather(d.Y, ix);
    let score: number;
    try {
      score = fn(ctx.net, X, Y);
    } finally {
      tf.dispose([ix, X, Y]);
    }
    const isBest = this.best === undefined || (this.lowerIsBetter ? score < this.best : score > this.best);
    if (isBest) this.best = score;
    ctx.history.record(this.name, score);
    ctx.history.record(`${this.name}Best`, isBest);
  }
}
