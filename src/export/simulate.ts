/**
 * simulateCircuit: run a circuit with integer arithmetic only between the input quantizer and the output
 * dequantizer (Concrete ML's fhe="simulate"): Int32 tensors, exact integer gemm/conv/sum-pool/add and table
 * lookups. No tfjs; batches of samples go through typed-array loops.
 */
import { DataError } from '../errors.js';
import type { ParsedCircuit, OutputPost } from './circuit_schema.js';
import { parseCircuit } from './circuit_parse.js';
import { addInt, conv2dInt, gemmDense, gemmInt, minMax, zeroShare, quantizeInput, sumPoolInt, tluInt } from './sim_kernels.js';

/** Samples to simulate: rows, a flat typed array (n inferred from the input size), {data, shape}, or a tfjs tensor. */
export type SimInput =
  | readonly (readonly number[])[]
  | Float32Array
  | Float64Array
  | { readonly data: ArrayLike<number>; readonly shape: readonly number[] }
  | { dataSync(): ArrayLike<number>; readonly shape: readonly number[] };

/** Options of `simulateCircuit`. */
export interface SimulateOptions {
  /** Samples per internal batch. @default 256 */
  batchSize?: number;
  /** Record the integer min/max of every node. @default false */
  recordRanges?: boolean;
}

/** What `simulateCircuit` returns. */
export interface SimulationResult {
  /** Dequantized outputs (after `post`), row-major [n, outputSize]. */
  readonly outputs: Float32Array;
  readonly n: number;
  readonly outputSize: number;
  /** argmax per sample (classification) or the first output value (regression). */
  readonly predictions: number[];
  /** Table inputs that fell outside a table's range and were clamped, over all samples. */
  readonly clampedLookups: number;
  /** Per node integer range seen (only with recordRanges). */
  readonly nodeRanges?: Array<{ name: string; min: number; max: number }>;
}

/** Flatten any SimInput to a float array and a sample count, checking it against the circuit's input size. */
export function toSimSamples(X: SimInput, inputSize: number): { data: ArrayLike<number>; n: number } {
  let data: ArrayLike<number>;
  if (Array.isArray(X)) {
    const rows = X as readonly (readonly number[])[];
    const flat = new Float64Array(rows.length * inputSize);
    rows.forEach((r, i) => {
      if (!Array.isArray(r) || r.length !== inputSize) {
        throw new DataError(`X[${i}] must be an array of ${inputSize} numbers (the circuit's input size), got ${Array.isArray(r) ? `length ${r.length}` : typeof r}`);
      }
      flat.set(r, i * inputSize);
    });
    data = flat;
  } else if (X instanceof Float32Array || X instanceof Float64Array) {
    data = X;
  } else if (typeof X === 'object' && X !== null && 'dataSync' in X && typeof X.dataSync === 'function') {
    data = X.dataSync();
  } else if (typeof X === 'object' && X !== null && 'data' in X) {
    data = X.data;
  } else {
    throw new DataError(`X must be rows (number[][]), a Float32Array/Float64Array, {data, shape} or a tensor; got ${typeof X}`);
  }
  if (data.length % inputSize !== 0) throw new DataError(`X has ${data.length} values, not a multiple of the circuit's input size ${inputSize}`);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new DataError(`X holds a non-finite value (${String(data[i])}) at flat index ${i}; clean the data first`);
  }
  return { data, n: data.length / inputSize };
}

/**
 * Run the circuit on X. Accepts a ParsedCircuit or raw circuit JSON (validated first).
 * @example const { predictions } = simulateCircuit(circuit, Xtest);
 * @throws CircuitFormatError for an invalid circuit, DataError for bad X.
 */
export function simulateCircuit(circuit: ParsedCircuit | unknown, X: SimInput, options: SimulateOptions = {}): SimulationResult {
  const c = isParsed(circuit) ? circuit : parseCircuit(circuit);
  const { data, n } = toSimSamples(X, c.inputSize);
  const batch = Math.max(1, Math.floor(options.batchSize ?? 256));
  const outSize = c.output.size;
  const outputs = new Float32Array(n * outSize);
  const ranges = options.recordRanges === true ? c.nodes.map((nd) => ({ name: nd.name, min: Infinity, max: -Infinity })) : undefined;
  let clamped = 0;
  const lastUse = c.nodes.map(() => -1);
  c.inputIndex.forEach((refs, i) => refs.forEach((r) => { if (r >= 0) lastUse[r] = i; }));
  for (let start = 0; start < n; start += batch) {
    const m = Math.min(batch, n - start);
    const slice = 'subarray' in data && typeof data.subarray === 'function'
      ? (data as Float64Array).subarray(start * c.inputSize, (start + m) * c.inputSize)
      : Array.prototype.slice.call(data, start * c.inputSize, (start + m) * c.inputSize) as number[];
    const xin = quantizeInput(slice, c.input);
    const vals: (Int32Array | null)[] = new Array<Int32Array | null>(c.nodes.length).fill(null);
    const get = (idx: number): Int32Array => (idx < 0 ? xin : (vals[idx] as Int32Array));
    for (let i = 0; i < c.nodes.length; i++) {
      const nd = c.nodes[i]!;
      const refs = c.inputIndex[i]!;
      const a = get(refs[0] ?? -1);
      let v: Int32Array;
      switch (nd.op) {
        case 'gemm': v = (zeroShare(a) > 0.6 ? gemmInt : gemmDense)(a, m, nd.inFeatures, nd.weights, nd.outFeatures, nd.bias); break;
        case 'conv2d': v = conv2dInt(a, m, nd.inShape, nd.weights, nd.kernel, nd.strides, nd.padding, nd.bias).values; break;
        case 'sumPool': v = sumPoolInt(a, m, nd.inShape, nd.poolSize, nd.strides).values; break;
        case 'add': v = addInt(a, get(refs[1] ?? -1)); break;
        case 'reshape': v = a; break;
        case 'tlu': {
          const r = tluInt(a, a.length / m, nd);
          clamped += r.clamped;
          v = r.values;
          break;
        }
      }
      vals[i] = v;
      if (ranges !== undefined) {
        const mm = minMax(v);
        const rr = ranges[i]!;
        if (mm.min < rr.min) rr.min = mm.min;
        if (mm.max > rr.max) rr.max = mm.max;
      }
      for (const r of refs) if (r >= 0 && lastUse[r] === i && r !== c.output.index) vals[r] = null;
    }
    dequantizeOutput(c, get(c.output.index), m, outputs.subarray(start * outSize, (start + m) * outSize));
  }
  const predictions = predictionsOf(outputs, n, outSize, c.output.task, c.output.post);
  return { outputs, n, outputSize: outSize, predictions, clampedLookups: clamped, ...(ranges !== undefined ? { nodeRanges: ranges } : {}) };
}

function isParsed(x: unknown): x is ParsedCircuit {
  return typeof x === 'object' && x !== null && (x as { parsed?: unknown }).parsed === true && Array.isArray((x as { inputIndex?: unknown }).inputIndex);
}

/** The output dequantizer (in the clear): f32(f32(q * scale[c]) + offset[c]), then the float `post` function. */
export function dequantizeOutput(c: ParsedCircuit, q: Int32Array, n: number, out: Float32Array): void {
  const size = c.output.size;
  const { scale, offset, post } = c.output;
  const nc = scale.length;
  const f32 = Math.fround;
  for (let s = 0; s < n; s++) {
    const b = s * size;
    for (let e = 0; e < size; e++) {
      const ch = e % nc;
      let y = f32((q[b + e] as number) * (scale[ch] as number));
      if (offset !== null) y = f32(y + (offset[ch] as number));
      out[b + e] = y;
    }
    if (post === 'relu') for (let e = 0; e < size; e++) out[b + e] = Math.max(0, out[b + e] as number);
    else if (post === 'sigmoid') for (let e = 0; e < size; e++) out[b + e] = 1 / (1 + Math.exp(-(out[b + e] as number)));
    else if (post === 'tanh') for (let e = 0; e < size; e++) out[b + e] = Math.tanh(out[b + e] as number);
    else if (post === 'softmax') {
      let mx = -Infinity;
      for (let e = 0; e < size; e++) mx = Math.max(mx, out[b + e] as number);
      let sum = 0;
      for (let e = 0; e < size; e++) { const ex = Math.exp((out[b + e] as number) - mx); out[b + e] = ex; sum += ex; }
      for (let e = 0; e < size; e++) out[b + e] = (out[b + e] as number) / sum;
    }
  }
}

/**
 * argmax per row (classification) or the first value (regression). A single-output classifier is thresholded
 * at 0.5 after a sigmoid output (`post`), else at 0 (logits).
 */
export function predictionsOf(outputs: ArrayLike<number>, n: number, size: number, task: 'classification' | 'regression', post: OutputPost = 'none'): number[] {
  const pred = new Array<number>(n);
  const threshold = post === 'sigmoid' ? 0.5 : 0;
  for (let s = 0; s < n; s++) {
    if (task === 'regression' || size === 1) {
      pred[s] = task === 'regression' ? (outputs[s * size] as number) : ((outputs[s * size] as number) > threshold ? 1 : 0);
      continue;
    }
    let best = 0;
    for (let e = 1; e < size; e++) if ((outputs[s * size + e] as number) > (outputs[s * size + best] as number)) best = e;
    pred[s] = best;
  }
  return pred;
}
