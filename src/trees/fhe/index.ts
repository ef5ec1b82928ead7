/** FHE-ready tree estimators and their integer GEMM program. */
export { FeatureQuantizer, type FeatureQuantizerJson } from './feature_quantizer.js';
export { quantizeEnsemble, traverseIntegerTrees, type QuantizedTreeEnsemble } from './quantize_trees.js';
export { treeToIntegerProgram, runIntegerProgram, signedBits, type IntegerTreeProgram, type IntegerStage, type TreeBitWidthReport, type IntRange } from './integer_program.js';
export { treeToCircuit, simulateTreeCircuit, type TreeCircuit, type TreeCircuitOptions, type TreeCircuitSource } from './to_circuit.js';
export { FheTreeEstimator, restoreTreeEstimator, resolveFheTreeOptions, type FheTreeOptions, type FhePredictOptions, type ResolvedFheTreeOptions } from './tree_estimator.js';
export { DecisionTreeClassifier, DecisionTreeRegressor } from './decision_tree.js';
export { RandomForestClassifier, RandomForestRegressor, type FheForestOptions } from './random_forest.js';
export { XGBClassifier, XGBRegressor, type FheBoostingOptions } from './gradient_boosting.js';
export { TREE_MODEL_FILE, isTreeModelDir, type TreeModelJson } from './persistence.js';
export { loadTreeEstimator } from './load_tree_estimator.js';
