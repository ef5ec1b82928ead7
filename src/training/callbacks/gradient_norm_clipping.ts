/**
 * GradientNormClipping: rescale all gradients so their global norm is at most `maxNorm`
 * (skorch `GradientNormClipping`, torch `clip_grad_norm_`). Runs in `onGradComputed`, on the tape-free step.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../errors.js';
import type { Callback, GradContext } from '../callback.js';

/** GradientNormClipping options. */
export interface GradientNormClippingOptions {
  /** Maximum global norm. */
  maxNorm: number;
  /** 2 (Euclidean) or Infinity (max abs). @default 2 */
  normType?: number;
}

/** Clips the global gradient norm. */
export class GradientNormClipping implements Callback {
  maxNorm: number;
  normType: number;

  constructor(options: GradientNormClippingOptions) {
    if (!(options.maxNorm > 0)) throw new ConfigError(`GradientNormClipping: maxNorm must be > 0; got ${options.maxNorm}`);
    this.maxNorm = options.maxNorm;
    this.normType = options.normType ?? 2;
    if (this.normType !== 2 && this.normType !== Infinity) throw new ConfigError(`GradientNormClipping: normType must be 2 or Infinity; got ${this.normType}`);
  }

  onGradComputed(ctx: GradContext): void {
    const names = Object.keys(ctx.grads);
    const grads = names.map((n) => ctx.grads[n] as tf.Tensor);
    const total = this.normType === Infinity
      ? tf.max(tf.stack(grads.map((g) => tf.max(tf.abs(g)))))
      : tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g)))));
    const factor = tf.minimum(1, tf.div(this.maxNorm, tf.add(total, 1e-6)));
    names.forEach((n, i) => { ctx.grads[n] = tf.mul(grads[i] as tf.Tensor, factor); });
  }
}
