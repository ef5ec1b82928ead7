/** Tree ensembles: a neutral IR, converters, Hummingbird's tensor strategies and Concrete ML-style FHE trees. */
export * from './tree_ir.js';
export * from './converters/index.js';
export { convertTrees, TreeTensorModel, type ConvertTreesOptions } from './tensor/convert_trees.js';
export { pickStrategy, type TreeStrategy } from './tensor/strategy.js';
export * from './fhe/index.js';
