/** skorch-style training: estimators, history, callbacks. Knows no layer types. */
export { NeuralNet, type EncodedTargets } from './net.js';
export { NeuralNetClassifier, type NeuralNetClassifierOptions } from './classifier.js';
export { NeuralNetRegressor, type NeuralNetRegressorOptions } from './regressor.js';
export { type NeuralNetOptions, type ModuleFactory, type ModuleParams, type Criterion, type ResolvedNetOptions } from './net_options.js';
export { History, type EpochRecord, type BatchRecord, type HistoryValue } from './history.js';
export { type Callback, type CallbackEntry, type TrainingContext, type BatchContext, type GradContext, type FitData, type TrainableVariableInfo } from './callback.js';
export { type TrainSplit } from './split.js';
export { type OptimizerName, type OptimizerSpec, getLearningRate, setLearningRate } from './optimizers.js';
export { FusedAdam, fusedAdam } from './fused_adam.js';
export { softmaxCrossEntropy } from './losses.js';
export { type FeatureInput, type TargetInput, type FlatArray } from './data.js';
export { type Label } from './labels.js';
export { makeRng, type Rng } from './rng.js';
export { saveParams, loadParams, PARAMS_FORMAT_VERSION } from './persistence.js';
export * from './callbacks/index.js';
export { shutdownParallelWorkers, type WorkersOption } from './parallel/index.js';
