/**
 * The built-in SparseQuantNeuralNetwork (Concrete ML's default module: 30-120-120-2, 4-bit weights and
 * activations, power-of-two scales) trained on breast cancer through `new NeuralNetClassifier({module__nLayers: 3})`.
 */
import type { CustomWorkload } from '../types.js';
import { measureBcEstimator } from './bc_estimator.js';

/** Workload 'bc-sqnn'. */
export const bcSqnn: CustomWorkload = {
  kind: 'custom',
  name: 'bc-sqnn',
  description: 'NeuralNetClassifier({module__nLayers: 3}) = SparseQuantNeuralNetwork 30-120-120-2 4/4-bit on data/breast_cancer.csv, batch 128, Adam lr 0.01',
  run: (ctx) => measureBcEstimator('bc-sqnn', 'qat4', { module__nLayers: 3 }, ctx),
};
