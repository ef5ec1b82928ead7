/**
 * The module NeuralNetClassifier / NeuralNetRegressor build when none is given: Concrete ML's
 * SparseQuantNeuralNetwork (src/models). This file is the only link from training to a concrete model.
 */
import type { ModuleFactory } from './net_options.js';

/** The default module factory, or undefined when no default is available. */
export function defaultModuleFactory(): ModuleFactory | undefined {
  return undefined;
}
