/**
 * Estimator integration (Concrete ML's `compile` and `predict(X, fhe=...)`), written against the estimators'
 * public surface only (`model`, `sampleShape_`, `classes_`, `targetMean_`/`targetStd_`): the lead wires
 * `clf.compile(X)` -> compileEstimator and `clf.predict(X, {fhe})` -> predictWithFhe.
 */
import type * as tf from '@tensorflow/tfjs';
import { ConfigError, NotInitializedError } from '../errors.js';
import { toFeatures, type FeatureInput } from '../training/data.js';
import type { CircuitJson, ParsedCircuit } from './circuit_schema.js';
import { parseCircuit } from './circuit_parse.js';
import type { BitWidthReport } from './report.js';
import { simulateCircuit } from './simulate.js';
import { exportCircuit, type ExportCircuitOptions } from './to_circuit.js';

/** The part of an estimator this module uses. */
export interface FheEstimatorLike {
  readonly model: tf.LayersModel;
  readonly sampleShape_?: number[] | undefined;
  readonly classes_?: ReadonlyArray<string | number | boolean> | undefined;
  readonly targetMean_?: number[] | undefined;
  readonly targetStd_?: number[] | undefined;
}

/** What `compileEstimator` stores and returns. */
export interface CompiledEstimator {
  readonly circuit: CircuitJson;
  readonly parsed: ParsedCircuit;
  readonly report: BitWidthReport;
}

/** FHE execution modes: 'disable' runs the integer program in the clear; 'simulate' is Concrete ML's simulation. */
export type FheMode = 'disable' | 'simulate';

const compiled = new WeakMap<object, CompiledEstimator>();

/**
 * Export the estimator's fitted model to a circuit calibrated on X, and remember it for predictWithFhe.
 * @example const { report } = compileEstimator(clf, Xtrain, { roundingThresholdBits: 6 });
 * @throws NotInitializedError before fit; the errors of exportCircuit.
 */
export function compileEstimator(net: FheEstimatorLike, X: FeatureInput, options: ExportCircuitOptions = {}): CompiledEstimator {
  const model = net.model;
  const feats = toFeatures(X, 'X', net.sampleShape_);
  try {
    const task = Array.isArray(net.classes_) ? 'classification' : net.targetMean_ !== undefined ? 'regression' : undefined;
    const { circuit, report } = exportCircuit(model, feats.tensor, { ...(task !== undefined ? { task } : {}), ...options });
    const entry = { circuit, parsed: parseCircuit(circuit), report };
    compiled.set(net, entry);
    return entry;
  } finally {
    feats.tensor.dispose();
  }
}

/** The compiled circuit of an estimator, or undefined. */
export function getCompiled(net: object): CompiledEstimator | undefined {
  return compiled.get(net);
}

/**
 * Predict with the compiled circuit: labels (classifiers), values in the original units (regressors) or raw rows.
 * @example predictWithFhe(clf, Xtest, { fhe: 'simulate' }) // ['benign', ...]
 * @throws NotInitializedError when compileEstimator was not called; ConfigError for an unknown mode.
 */
export function predictWithFhe(net: FheEstimatorLike, X: FeatureInput, options: { fhe: FheMode }): Array<string | number | boolean> | number[] | number[][] {
  if (options.fhe !== 'disable' && options.fhe !== 'simulate') {
    throw new ConfigError(`fhe must be 'disable' or 'simulate' (encrypted execution needs an FHE backend), got ${JSON.stringify(options.fhe)}`);
  }
  const c = compiled.get(net);
  if (c === undefined) throw new NotInitializedError('the estimator is not compiled; call compile(X) (compileEstimator(net, X)) after fit');
  const feats = toFeatures(X, 'X', net.sampleShape_);
  let data: Float32Array;
  try {
    data = Float32Array.from(feats.tensor.dataSync());
  } finally {
    feats.tensor.dispose();
  }
  const sim = simulateCircuit(c.parsed, data);
  if (Array.isArray(net.classes_)) {
    const classes = net.classes_;
    return sim.predictions.map((i) => classes[i] as string | number | boolean);
  }
  const rows: number[][] = [];
  for (let i = 0; i < sim.n; i++) rows.push(Array.from(sim.outputs.subarray(i * sim.outputSize, (i + 1) * sim.outputSize)));
  if (net.targetMean_ !== undefined) {
    const mean = net.targetMean_;
    const std = net.targetStd_ ?? [];
    const un = rows.map((r) => r.map((v, j) => v * (std[j] ?? 1) + (mean[j] ?? 0)));
    return sim.outputSize === 1 ? un.map((r) => r[0] ?? NaN) : un;
  }
  return rows;
}
