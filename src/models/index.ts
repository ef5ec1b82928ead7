/** Built-in models: Concrete ML's SparseQuantNeuralNetwork, its fan-in budget and pruning. */
export { sparseQuantNeuralNetwork, buildSparseQnn, resolveSparseQnnOptions, SPARSE_QNN_PARAM_NAMES, type SparseQuantNeuralNetworkOptions, type ResolvedSparseQnnOptions } from './sparse_qnn.js';
export { maxActiveNeurons, type AccumulatorBudgetBits } from './max_active_neurons.js';
export { PruningCallback, topKPerNeuronMask, isMaskable, type PruningCallbackOptions, type MaskableLayer } from './pruning_callback.js';
export { structuredPrunePlan, keptNeurons } from './structured_prune.js';
export { accumulatorReport, type AccumulatorReport } from './accumulator_report.js';
