/**
 * exportCircuit: turn a model built from tfjs-qat layers into a mixed-integer circuit, calibrated on data
 * (Concrete ML's `compile_brevitas_qat_model`): checks the mixed-integer rules, converts layer by layer through
 * the registry, sizes tables from the calibration ranges, checks TLU inputs against maxBitWidth, and verifies the
 * circuit against the fake-quantized tfjs model.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError, MixedIntegerError, UnsupportedLayerError } from '../errors.js';
import { checkMixedInteger } from '../layers/mixed_integer.js';
import { CircuitBuilder } from './builder.js';
import { CIRCUIT_FORMAT_VERSION, type CircuitJson, type NodeJson, type OutputPost } from './circuit_schema.js';
import { parseCircuit } from './circuit_parse.js';
import { getConverter } from './registry.js';
import type { AgreementReport, BitWidthReport } from './report.js';
import { predictionsOf, simulateCircuit } from './simulate.js';

/** Options of `exportCircuit`. */
export interface ExportCircuitOptions {
  /** Largest TLU input bit width (Concrete ML's 16-bit limit). @default 16 */
  maxBitWidth?: number;
  /** Round accumulators to their n most significant bits before each TLU (Concrete ML's rounding_threshold_bits), 2..8, or null. @default null */
  roundingThresholdBits?: number | null;
  /** 'classification' (argmax) or 'regression'. @default 'classification' when the model has several outputs, else 'regression' */
  task?: 'classification' | 'regression';
  /** Compare the circuit with the tfjs model on the calibration data and put the result in the report. @default true */
  verify?: boolean;
  /** Largest number of calibration samples used (an even stride over the data when more are given). @default 10000 */
  maxCalibrationSamples?: number;
  /** Largest total entries of a TLU node's tables when widening them to their full bit-width domain. @default 2097152 */
  tableBudget?: number;
  /** Provenance stored in the circuit's `meta`. @default {} */
  meta?: Record<string, unknown>;
}

/** Resolved options. */
export type ResolvedExportOptions = Required<Omit<ExportCircuitOptions, 'task'>> & { task: 'classification' | 'regression' | null };

/** Calibration data: rows, a tensor, or a flat array with its shape. */
export type CalibrationInput = tf.Tensor | readonly (readonly number[])[] | { readonly data: ArrayLike<number>; readonly shape: readonly number[] };

/** What `exportCircuit` returns. */
export interface ExportResult {
  /** The circuit document (JSON-serializable; `report` embedded). */
  readonly circuit: CircuitJson;
  readonly report: BitWidthReport;
}

/** Validate options and apply defaults (the only place they are checked). @throws ConfigError */
export function resolveExportOptions(o: ExportCircuitOptions = {}): ResolvedExportOptions {
  const maxBitWidth = o.maxBitWidth ?? 16;
  if (!Number.isInteger(maxBitWidth) || maxBitWidth < 2 || maxBitWidth > 30) throw new ConfigError(`maxBitWidth must be an integer in 2..30, got ${String(maxBitWidth)}`);
  const rb = o.roundingThresholdBits ?? null;
  if (rb !== null && (!Number.isInteger(rb) || rb < 2 || rb > 8)) {
    throw new ConfigError(`roundingThresholdBits must be an integer in 2..8 (Concrete ML's range) or null, got ${String(rb)}`);
  }
  if (o.task !== undefined && o.task !== 'classification' && o.task !== 'regression') throw new ConfigError(`task must be 'classification' or 'regression', got ${JSON.stringify(o.task)}`);
  const maxCal = o.maxCalibrationSamples ?? 10000;
  if (!Number.isInteger(maxCal) || maxCal < 1) throw new ConfigError(`maxCalibrationSamples must be a positive integer, got ${String(maxCal)}`);
  const tableBudget = o.tableBudget ?? 1 << 21;
  if (!Number.isInteger(tableBudget) || tableBudget < 1) throw new ConfigError(`tableBudget must be a positive integer, got ${String(tableBudget)}`);
  return { maxBitWidth, roundingThresholdBits: rb, task: o.task ?? null, verify: o.verify ?? true, maxCalibrationSamples: maxCal, tableBudget, meta: o.meta ?? {} };
}

/** Flatten calibration data to float32, check it against the model's input shape, subsample evenly. */
function calibrationData(X: CalibrationInput, inputShape: number[], maxSamples: number): { data: Float32Array; n: number } {
  const size = inputShape.reduce((a, b) => a * b, 1);
  let flat: Float32Array;
  if (X instanceof tf.Tensor) flat = Float32Array.from(X.dataSync());
  else if (Array.isArray(X)) {
    const rows = X as readonly (readonly number[])[];
    flat = new Float32Array(rows.length * size);
    rows.forEach((r, i) => {
      if (!Array.isArray(r) || r.length !== size) throw new DataError(`calibration row ${i} has ${Array.isArray(r) ? r.length : typeof r} values; the model takes ${size}`);
      flat.set(r, i * size);
    });
  } else if (typeof X === 'object' && X !== null && 'data' in X) flat = Float32Array.from(X.data);
  else throw new DataError('calibrationX must be rows (number[][]), a tensor or {data, shape}');
  if (flat.length === 0 || flat.length % size !== 0) throw new DataError(`calibration data has ${flat.length} values; it must be a non-empty multiple of the model's input size ${size}`);
  for (let i = 0; i < flat.length; i++) if (!Number.isFinite(flat[i])) throw new DataError(`calibration data holds a non-finite value at flat index ${i}`);
  const n = flat.length / size;
  if (n <= maxSamples) return { data: flat, n };
  const out = new Float32Array(maxSamples * size);
  for (let i = 0; i < maxSamples; i++) {
    const src = Math.floor((i * n) / maxSamples);
    out.set(flat.subarray(src * size, (src + 1) * size), i * size);
  }
  return { data: out, n: maxSamples };
}

/** The layers of a single-branch model in order (InputLayer dropped). @throws UnsupportedLayerError for branches. */
function chainOfLayers(model: tf.LayersModel): tf.layers.Layer[] {
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  layers.forEach((l, i) => {
    const node = l.inboundNodes[0];
    const ins = node?.inboundLayers ?? [];
    if (ins.length > 1) throw new UnsupportedLayerError(`layer '${l.name}' (${l.getClassName()}) takes ${ins.length} inputs; only single-branch models can be exported`);
    const prev = i === 0 ? null : layers[i - 1];
    const src = ins[0];
    if (prev !== null && prev !== undefined && src !== prev) {
      throw new UnsupportedLayerError(`layer '${l.name}' does not follow '${prev.name}' (its input is '${src?.name ?? 'the model input'}'); only single-branch models can be exported`);
    }
  });
  if (model.outputs.length !== 1 || model.inputs.length !== 1) throw new UnsupportedLayerError('only models with one input and one output can be exported');
  return layers;
}

/** Build the circuit (no verification). */
function build(model: tf.LayersModel, calib: { data: Float32Array; n: number; inputShape: number[] }, o: ResolvedExportOptions): { circuit: CircuitJson; b: CircuitBuilder } {
  const b = new CircuitBuilder(calib, { maxBitWidth: o.maxBitWidth, roundingThresholdBits: o.roundingThresholdBits, tableBudget: o.tableBudget });
  for (const layer of chainOfLayers(model)) getConverter(layer)(layer, b);
  const c = b.cur;
  if (c === null || b.input === null) throw new UnsupportedLayerError('the model has no QuantIdentity input quantizer; add quantIdentity({bitWidth}) as the first layer');
  let post: OutputPost = 'none';
  if (c.chain.length > 1 || (c.chain.length === 1 && c.chain[0]?.clearName === undefined)) {
    throw new UnsupportedLayerError(`float layer(s) ${c.chain.map((x) => `'${x.layer}'`).join(', ')} follow the last quantized layer; only one of relu, sigmoid, tanh or softmax ` +
      'can run in the clear after the output; add a QuantIdentity after them (they then become a table lookup) or remove them');
  }
  if (c.chain.length === 1) post = c.chain[0]?.clearName ?? 'none';
  if (c.node === 'input') b.reshape(model.layers[model.layers.length - 1] as tf.layers.Layer, [...c.shape]);
  const cur = b.cur ?? c;
  const ch = cur.map.channels;
  const scale = cur.map.scale.length === ch ? [...cur.map.scale] : new Array<number>(ch).fill(cur.map.scale[0] ?? NaN);
  const size = cur.shape.reduce((x, y) => x * y, 1);
  const task = o.task ?? (size > 1 ? 'classification' : 'regression');
  const circuit: CircuitJson = {
    formatVersion: CIRCUIT_FORMAT_VERSION,
    producer: 'tfjs-qat',
    inputShape: [...calib.inputShape],
    input: b.input,
    nodes: b.nodes as NodeJson[],
    output: { input: cur.node, scale, offset: cur.map.bias === null ? null : Array.from(cur.map.bias), post, task },
    meta: { ...o.meta },
  };
  return { circuit, b };
}

/** Agreement of a circuit with the model on the calibration data. */
function agreement(model: tf.LayersModel, circuit: CircuitJson, calib: { data: Float32Array; n: number; inputShape: number[] }): AgreementReport {
  const parsed = parseCircuit(circuit);
  const sim = simulateCircuit(parsed, calib.data);
  const ref = tf.tidy(() => model.predict(tf.tensor(calib.data, [calib.n, ...calib.inputShape])) as tf.Tensor);
  const refData = ref.dataSync();
  ref.dispose();
  const size = sim.outputSize;
  const refPred = predictionsOf(refData, calib.n, size, circuit.output.task, circuit.output.post);
  let same = 0;
  let maxDiff = 0;
  const sc = circuit.output.scale;
  for (let i = 0; i < calib.n; i++) {
    const a = sim.predictions[i] as number;
    const r = refPred[i] as number;
    if (circuit.output.task === 'classification' ? a === r : Math.round(a) === Math.round(r)) same++;
  }
  for (let i = 0; i < sim.outputs.length; i++) {
    const d = Math.abs((sim.outputs[i] as number) - (refData[i] as number)) / (sc[(i % size) % sc.length] as number);
    if (d > maxDiff) maxDiff = d;
  }
  return { samples: calib.n, predictionAgreement: same / calib.n, maxDiffSteps: maxDiff };
}

/**
 * Export a model built from tfjs-qat layers to a mixed-integer circuit.
 * @example const { circuit, report } = exportCircuit(model, Xtrain, { roundingThresholdBits: 6 });
 * @throws MixedIntegerError listing every violation of the mixed-integer rules (checkMixedInteger);
 * @throws UnsupportedLayerError naming a layer that cannot be converted and what to use instead;
 * @throws AccumulatorOverflowError naming the node whose TLU input needs more than maxBitWidth bits.
 */
export function exportCircuit(model: tf.LayersModel, calibrationX: CalibrationInput, options: ExportCircuitOptions = {}): ExportResult {
  const o = resolveExportOptions(options);
  const violations = checkMixedInteger(model);
  if (violations.length > 0) throw new MixedIntegerError(violations);
  const input = model.inputs[0];
  const inputShape = (input?.shape ?? []).slice(1);
  if (!inputShape.every((d): d is number => typeof d === 'number' && d > 0)) {
    throw new UnsupportedLayerError(`the model's input shape [${inputShape.join(', ')}] is not fully known; build the model with a fixed inputShape`);
  }
  const calib = { ...calibrationData(calibrationX, inputShape, o.maxCalibrationSamples), inputShape };
  const { circuit, b } = build(model, calib, o);
  const agree = o.verify ? agreement(model, circuit, calib) : null;
  let rounding: BitWidthReport['rounding'] = null;
  if (o.roundingThresholdBits !== null) {
    let without: number | null = null;
    if (o.verify) {
      try {
        without = agreement(model, build(model, calib, { ...o, roundingThresholdBits: null, maxBitWidth: 30 }).circuit, calib).predictionAgreement;
      } catch {
        without = null;
      }
    }
    rounding = { thresholdBits: o.roundingThresholdBits, agreementWithModel: agree?.predictionAgreement ?? null, agreementWithoutRounding: without };
  }
  const nodes = b.reports;
  const jsonBytes = Buffer.byteLength(JSON.stringify(circuit));
  const report: BitWidthReport = {
    maxBitWidth: Math.max(b.input?.bitWidth ?? 0, ...nodes.map((n) => n.range.bits)),
    maxTluInputBits: Math.max(0, ...nodes.map((n) => n.tluInput?.bits ?? 0)),
    maxWorstCaseAccumulatorBits: Math.max(0, ...nodes.filter((n) => n.op === 'gemm' || n.op === 'conv2d').map((n) => n.worstCase.bits)),
    maxBrevitasAccBits: Math.max(0, ...nodes.map((n) => n.brevitasAccBits ?? 0)),
    bitWidthLimit: o.maxBitWidth,
    nodes,
    potRoundPbs: b.pot,
    rounding,
    agreement: agree,
    storedIntegers: b.storedIntegers,
    jsonBytes,
  };
  return { circuit: { ...circuit, report }, report };
}
