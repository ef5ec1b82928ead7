/**
 * Float twin of bc-sqnn: the same estimator, data and widths (30-120-120-2, ReLU) with a plain tf.layers.dense
 * module, so the table shows the SparseQuantNeuralNetwork's QAT/float ratio through the estimator API.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModuleFactory, ModuleParams } from '../../src/index.js';
import type { CustomWorkload } from '../types.js';
import { measureBcEstimator } from './bc_estimator.js';

/** Dense ReLU MLP with the SparseQuantNeuralNetwork's default widths (hidden = 4 x inputs). */
const floatMlp: ModuleFactory = Object.assign((p: ModuleParams): tf.LayersModel => {
  const nLayers = typeof p['nLayers'] === 'number' ? p['nLayers'] : 3;
  const hidden = 4 * p.inputDim;
  const layers: tf.layers.Layer[] = [];
  for (let i = 0; i < nLayers - 1; i++) {
    layers.push(tf.layers.dense({ ...(i === 0 ? { inputShape: p.inputShape } : {}), units: hidden, activation: 'relu' }));
  }
  layers.push(tf.layers.dense({ ...(nLayers === 1 ? { inputShape: p.inputShape } : {}), units: p.nOutputs }));
  return tf.sequential({ layers });
}, { paramNames: ['nLayers'] as const });

/** Workload 'bc-float'. */
export const bcFloat: CustomWorkload = {
  kind: 'custom',
  name: 'bc-float',
  description: 'bc-sqnn with a float module (tf.layers.dense 30-120-120-2, ReLU) through the same NeuralNetClassifier',
  run: (ctx) => measureBcEstimator('bc-float', 'float', { module: floatMlp, module__nLayers: 3 }, ctx),
};
