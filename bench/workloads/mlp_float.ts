/**
 * Float MLP 784-256-256-10 (ReLU), dense layers.
 */
import * as tf from '@tensorflow/tfjs';
import type { Workload } from '../types.js';
import { BATCH, CLASSES, MLP_HIDDEN, MLP_IN, glorot } from './common.js';

/** Workload 'mlp-float'. */
export const mlpFloat: Workload = {
  name: 'mlp-float',
  net: 'mlp',
  variant: 'float',
  description: `MLP ${MLP_IN}-${MLP_HIDDEN}-${MLP_HIDDEN}-${CLASSES} float (tf.layers.dense, ReLU)`,
  inputShape: [MLP_IN],
  classes: CLASSES,
  batchSize: BATCH,
  build: (seed) => tf.sequential({ layers: [
    tf.layers.dense({ inputShape: [MLP_IN], units: MLP_HIDDEN, activation: 'relu', kernelInitializer: glorot(seed, 0) }),
    tf.layers.dense({ units: MLP_HIDDEN, activation: 'relu', kernelInitializer: glorot(seed, 1) }),
    tf.layers.dense({ units: CLASSES, kernelInitializer: glorot(seed, 2) }),
  ] }),
};
