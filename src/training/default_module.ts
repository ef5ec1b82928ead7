/**
 * The module NeuralNetClassifier / NeuralNetRegressor build when none is given: Concrete ML's
 * SparseQuantNeuralNetwork (src/models). This file is the only link from training to a concrete model.
 */
import { sparseQuantNeuralNetwork } from '../models/sparse_qnn.js';
import type { ModuleFactory } from './net_options.js';

/** The default module factory (SparseQuantNeuralNetwork). */
export function defaultModuleFactory(): ModuleFactory | undefined {
  return sparseQuantNeuralNetwork;
}
