/** Export: the mixed-integer circuit (schema, exporter, integer simulator, bit-width report) and estimator integration. */
export * from './circuit_schema.js';
export { MAX_NODES, MAX_SAMPLE_VALUES, MAX_INT_MAGNITUDE } from './circuit_parse.js';
export * from './to_circuit.js';
export * from './simulate.js';
export * from './report.js';
export * from './estimator_fhe.js';
