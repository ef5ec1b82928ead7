/**
 * simulateCircuit: run a circuit with integer arithmetic only between the input quantizer and the output
 * dequantizer (Concrete ML's fhe="simulate"): Int32 tensors, exact integer gemm/conv/sum-pool/add and table
 * lookups, batches of samples at a time.
 *
 * Kernels (`kernel` option): every choice gives the same integers bit for bit.
 * - 'reference': the plain Int32Array loops of sim_kernels.ts.
 * - 'js': faster typed-array loops (gemm with several outputs packed per exact float64 multiply-add, TLUs
 *   channel by channel over compacted tables with shift-based rounding).
 * - 'auto': like 'js', but on the wasm backend gemm and conv2d nodes whose worst-case accumulator is below 2^24
 *   run as float32 matMul / conv2d (XNNPACK), see `FLOAT32_EXACT_LIMIT`, and so does the input quantizer when only
 *   such nodes read the input.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError } from '../errors.js';
import type { ParsedCircuit, ParsedNode, OutputPost } from './circuit_schema.js';
import { parseCircuit } from './circuit_parse.js';
import {
  addInt, conv2dInt, gemmDense, gemmInt, inputIntRange, minMax, zeroShare, quantizeInput, quantizeInputFast, sumPoolInt, tluInt, tluFast,
  compactInts, type IntTable, packGemm, gemmPacked, type PackedGemm,
} from './sim_kernels.js';

/** Samples to simulate: rows, a flat typed array (n inferred from the input size), {data, shape}, or a tfjs tensor. */
export type SimInput =
  | readonly (readonly number[])[]
  | Float32Array
  | Float64Array
  | { readonly data: ArrayLike<number>; readonly shape: readonly number[] }
  | { dataSync(): ArrayLike<number>; readonly shape: readonly number[] };

/** Options of `simulateCircuit`. */
export interface SimulateOptions {
  /**
   * Samples per internal batch. @default 1024, fewer when the largest node would hold more than 2^22 values per
   * batch (memory stays bounded)
   */
  batchSize?: number;
  /** Record the integer min/max of every node. @default false */
  recordRanges?: boolean;
  /**
   * Kernels: 'auto' (exact float32 matMul/conv2d through tfjs for nodes whose worst case is below 2^24, on the
   * wasm backend; fast JS loops otherwise), 'js' (fast JS loops only) or 'reference' (plain
   * integer loops). Identical integers either way. @default process.env.TFJS_QAT_SIM_KERNEL ?? 'auto'
   */
  kernel?: SimKernel;
}

/** Kernel choice of `simulateCircuit`. */
export type SimKernel = 'auto' | 'js' | 'reference';

const SIM_KERNELS: readonly SimKernel[] = ['auto', 'js', 'reference'];

/**
 * Float32 represents every integer of magnitude <= 2^24 exactly. When a gemm/conv2d node's worst case
 * |bias| + sum_i |w_i| * max|x_i| is below 2^24, every product and every partial sum of any subset of the terms
 * (so any summation order, blocking or FMA) is an integer below 2^24: float32 arithmetic gives the integer
 * result exactly.
 */
export const FLOAT32_EXACT_LIMIT = 2 ** 24;

/**
 * Backends whose float32 matMul/conv2d are plain IEEE float32 sums of products (XNNPACK GEMM / indirect
 * convolution; not fp16 textures as webgl may use, nor Winograd convolutions as native CPU libraries may pick)
 * and read back synchronously. Only wasm is verified here (tests), so only wasm is listed.
 */
const EXACT_FLOAT_BACKENDS = new Set(['wasm']);

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

/** Resolved and validated options of `simulateCircuit`. */
interface ResolvedSimOptions { batch: number | undefined; recordRanges: boolean; kernel: SimKernel }

/** Default batch: 1024 samples (the float32 matMul gains little beyond), at most 2^22 values in any node's batch. */
const DEFAULT_BATCH = 1024;
const MAX_BATCH_VALUES = 2 ** 22;

function defaultBatch(c: ParsedCircuit): number {
  const largest = Math.max(c.inputSize, ...c.nodes.map((nd) => sizeOfShape(nd.shape)));
  return Math.max(1, Math.min(DEFAULT_BATCH, Math.floor(MAX_BATCH_VALUES / largest)));
}

function resolveSimOptions(o: SimulateOptions): ResolvedSimOptions {
  const kernel = o.kernel ?? (process.env['TFJS_QAT_SIM_KERNEL'] || 'auto');
  if (!(SIM_KERNELS as readonly string[]).includes(kernel)) {
    throw new ConfigError(`kernel must be one of ${SIM_KERNELS.join(', ')} (option or TFJS_QAT_SIM_KERNEL), got '${String(kernel)}'`);
  }
  const bs = o.batchSize;
  if (bs !== undefined && (typeof bs !== 'number' || !Number.isFinite(bs) || bs < 1)) throw new ConfigError(`batchSize must be a positive integer, got ${String(bs)}`);
  return { batch: bs === undefined ? undefined : Math.floor(bs), recordRanges: o.recordRanges === true, kernel: kernel as SimKernel };
}

/**
 * Worst-case magnitude of every node's values (gemm/conv2d: of every accumulator, bias included), propagated
 * from the input quantizer's range through the weights and tables the simulator uses.
 */
export function magnitudeBounds(c: ParsedCircuit): number[] {
  const { minInt, maxInt } = inputIntRange(c.input);
  const inBound = Math.max(Math.abs(minInt), Math.abs(maxInt));
  const bounds: number[] = [];
  const of = (idx: number | undefined): number => (idx === undefined || idx < 0 ? inBound : (bounds[idx] ?? Infinity));
  c.nodes.forEach((nd, i) => {
    const refs = c.inputIndex[i] ?? [];
    const src = of(refs[0]);
    let b: number;
    switch (nd.op) {
      case 'gemm': case 'conv2d': {
        const cout = nd.op === 'gemm' ? nd.outFeatures : nd.kernel[3];
        const acc = new Float64Array(cout);
        if (nd.bias !== null) for (let o = 0; o < cout; o++) acc[o] = Math.abs(nd.bias[o] as number);
        for (let k = 0, o = 0; k < nd.weights.length; k++) {
          acc[o] = (acc[o] as number) + Math.abs(nd.weights[k] as number) * src;
          if (++o === cout) o = 0;
        }
        b = 0;
        for (let o = 0; o < cout; o++) b = Math.max(b, acc[o] as number);
        break;
      }
      case 'sumPool': b = src * nd.poolSize[0] * nd.poolSize[1]; break;
      case 'add': b = src + of(refs[1]); break;
      case 'reshape': b = src; break;
      case 'tlu': b = maxAbs(nd.tables); break;
    }
    bounds.push(b);
  });
  return bounds;
}

function maxAbs(x: Int32Array): number {
  const { min, max } = minMax(x);
  return Math.max(-min, max);
}

function sizeOfShape(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Whether a gemm/conv2d node with this worst-case accumulator is computed exactly by float32 arithmetic. */
export function exactInFloat32(bound: number): boolean {
  return bound < FLOAT32_EXACT_LIMIT;
}

/**
 * Per node: true for the gemm/conv2d nodes that `kernel: 'auto'` runs as float32 tfjs ops on the wasm backend
 * (worst-case accumulator below 2^24); false for every other node.
 */
export function float32ExactNodes(c: ParsedCircuit): boolean[] {
  const bounds = magnitudeBounds(c);
  return c.nodes.map((nd, i) => (nd.op === 'gemm' || nd.op === 'conv2d') && exactInFloat32(bounds[i] ?? Infinity));
}

type MixNode = Extract<ParsedNode, { op: 'gemm' | 'conv2d' }>;

/** Float32 weight/bias tensors of the nodes that take the exact float32 path (created per call, disposed after). */
interface F32Param { readonly w: tf.Tensor; readonly b: tf.Tensor1D | undefined }

/**
 * What planning derives from a circuit alone, computed once per ParsedCircuit (parsed circuits are never mutated):
 * the magnitude bounds, float32 copies of the weights and compacted tables. Tensors are still created per call.
 */
interface CircuitDerived {
  bounds: number[] | undefined;
  readonly f32: Map<number, { readonly w: Float32Array; readonly b: Float32Array | null }>;
  readonly tables: Map<number, IntTable>;
  readonly packed: Map<number, PackedGemm | null>;
}

const derivedCache = new WeakMap<ParsedCircuit, CircuitDerived>();

function derivedOf(c: ParsedCircuit): CircuitDerived {
  let d = derivedCache.get(c);
  if (d === undefined) {
    d = { bounds: undefined, f32: new Map(), tables: new Map(), packed: new Map() };
    derivedCache.set(c, d);
  }
  return d;
}

function f32Params(nd: MixNode, i: number, d: CircuitDerived): F32Param {
  const shape = nd.op === 'gemm' ? [nd.inFeatures, nd.outFeatures] : [...nd.kernel];
  let f = d.f32.get(i);
  if (f === undefined) {
    f = { w: Float32Array.from(nd.weights), b: nd.bias === null ? null : Float32Array.from(nd.bias) };
    d.f32.set(i, f);
  }
  return { w: tf.tensor(f.w, shape, 'float32'), b: f.b === null ? undefined : tf.tensor1d(f.b, 'float32') };
}

/**
 * gemm or conv2d of m samples as float32 tfjs ops (exact when `exactInFloat32` holds for the node). The input is
 * an Int32Array or a float32 tensor of integers (the quantized circuit input, see `quantizeInputF32`).
 */
function mixF32(nd: MixNode, p: F32Param, x: Int32Array | tf.Tensor, m: number): Int32Array {
  let xf: Float32Array | null = null;
  if (x instanceof Int32Array) {
    xf = new Float32Array(x.length);
    xf.set(x);
  }
  const y = tf.tidy(() => {
    const inShape = nd.op === 'gemm' ? [m, nd.inFeatures] : [m, ...nd.inShape];
    const xt = xf !== null ? tf.tensor(xf, inShape, 'float32') : tf.reshape(x as tf.Tensor, inShape);
    if (nd.op === 'gemm') return tf.fused.matMul({ a: xt as tf.Tensor2D, b: p.w as tf.Tensor2D, bias: p.b });
    const [t, bo, l, r] = nd.padding;
    return tf.fused.conv2d({ x: xt as tf.Tensor4D, filter: p.w as tf.Tensor4D, strides: [...nd.strides], pad: [[0, 0], [t, bo], [l, r], [0, 0]], bias: p.b });
  });
  const out = new Int32Array(y.size);
  out.set(y.dataSync());
  y.dispose();
  return out;
}

/**
 * The input quantizer as float32 tfjs ops: clip(round(f32(x) / scale + zeroPoint)). Equal to quantizeInput on
 * wasm, where div and add are IEEE float32 operations (the same as Math.fround of the float64 result: double
 * rounding is harmless for one division or addition) and Round is ties-to-even (f32.nearest).
 */
function quantizeInputF32(x: Float32Array | Float64Array, m: number, c: ParsedCircuit): tf.Tensor {
  const { minInt, maxInt } = inputIntRange(c.input);
  const xf = x instanceof Float32Array ? x : Float32Array.from(x);
  return tf.tidy(() => {
    let y = tf.div(tf.tensor2d(xf, [m, c.inputSize], 'float32'), tf.scalar(Math.fround(c.input.scale), 'float32'));
    if (c.input.zeroPoint !== 0) y = tf.add(y, tf.scalar(c.input.zeroPoint, 'float32'));
    return tf.clipByValue(tf.round(y), minInt, maxInt);
  });
}

/** Per-call state of the simulator: kernels chosen per node, float32 parameters, compacted tables, counters. */
interface SimPlan {
  readonly c: ParsedCircuit;
  readonly kernel: SimKernel;
  /** Float32 weights of the gemm/conv2d nodes that take the exact float32 path. */
  readonly params: Map<number, F32Param>;
  /** TLU tables in int8/int16 when they fit. */
  readonly tables: Map<number, IntTable>;
  /** Integer gemms with several outputs per float64 multiply-add ('js', and 'auto' off the float32 path). */
  readonly packed: Map<number, PackedGemm>;
  /** Quantize the input with tfjs ops (only float32-path nodes read the input). */
  readonly quantizeInF32: boolean;
  readonly lastUse: number[];
  readonly ranges: Array<{ name: string; min: number; max: number }> | undefined;
  clamped: number;
}

function planSimulation(c: ParsedCircuit, n: number, opts: ResolvedSimOptions): SimPlan {
  const { kernel } = opts;
  const lastUse = c.nodes.map(() => -1);
  c.inputIndex.forEach((refs, i) => refs.forEach((r) => { if (r >= 0) lastUse[r] = i; }));
  const params = new Map<number, F32Param>();
  const packed = new Map<number, PackedGemm>();
  const backend = kernel === 'auto' && n > 0 ? tf.getBackend() : '';
  const derived = derivedOf(c);
  const bounds = kernel === 'reference' || n === 0 ? [] : (derived.bounds ??= magnitudeBounds(c));
  c.nodes.forEach((nd, i) => {
    if (nd.op !== 'gemm' && nd.op !== 'conv2d') return;
    const bound = bounds[i] ?? Infinity;
    if (EXACT_FLOAT_BACKENDS.has(backend) && exactInFloat32(bound)) params.set(i, f32Params(nd, i, derived));
    else if (nd.op === 'gemm' && bound < Infinity) {
      let pg = derived.packed.get(i);
      if (pg === undefined) {
        pg = packGemm(nd.weights, nd.inFeatures, nd.outFeatures, nd.bias, bound);
        derived.packed.set(i, pg);
      }
      if (pg !== null) packed.set(i, pg);
    }
  });
  const readsInput = c.inputIndex.map((refs, i) => (refs.includes(-1) ? i : -2)).filter((i) => i !== -2);
  const quantizeInF32 = EXACT_FLOAT_BACKENDS.has(backend) && c.output.index !== -1 && readsInput.length > 0 && readsInput.every((i) => params.has(i));
  // Tables in int8/int16 when they fit and the lookups outnumber the table entries (compacting costs one pass).
  const tables = new Map<number, IntTable>();
  if (kernel !== 'reference') {
    c.nodes.forEach((nd, i) => {
      if (nd.op !== 'tlu' || n * sizeOfShape(nd.shape) < nd.tables.length) return;
      let t = derived.tables.get(i);
      if (t === undefined) {
        t = compactInts(nd.tables);
        derived.tables.set(i, t);
      }
      tables.set(i, t);
    });
  }
  const ranges = opts.recordRanges ? c.nodes.map((nd) => ({ name: nd.name, min: Infinity, max: -Infinity })) : undefined;
  return { c, kernel, params, tables, packed, quantizeInF32, lastUse, ranges, clamped: 0 };
}

/** Run m samples (float input `x`) through every node; returns the integer values of the output node. */
function runBatch(plan: SimPlan, x: ArrayLike<number>, m: number): Int32Array {
  const { c, kernel, params } = plan;
  const xq = plan.quantizeInF32 && (x instanceof Float32Array || x instanceof Float64Array) ? quantizeInputF32(x, m, c) : null;
  try {
    let xint: Int32Array | null = null;
    const vals: (Int32Array | null)[] = new Array<Int32Array | null>(c.nodes.length).fill(null);
    const get = (idx: number): Int32Array => {
      if (idx >= 0) return vals[idx] as Int32Array;
      xint ??= kernel !== 'reference' && (x instanceof Float32Array || x instanceof Float64Array) ? quantizeInputFast(x, c.input) : quantizeInput(x, c.input);
      return xint;
    };
    for (let i = 0; i < c.nodes.length; i++) {
      const nd = c.nodes[i]!;
      const refs = c.inputIndex[i]!;
      const p = params.get(i);
      let v: Int32Array;
      if (p !== undefined) {
        v = mixF32(nd as MixNode, p, xq !== null && refs[0] === -1 ? xq : get(refs[0] ?? -1), m);
      } else {
        const a = get(refs[0] ?? -1);
        switch (nd.op) {
          case 'gemm': {
            const pg = plan.packed.get(i);
            if (kernel === 'reference') v = gemmInt(a, m, nd.inFeatures, nd.weights, nd.outFeatures, nd.bias);
            else if (pg !== undefined) v = gemmPacked(a, m, pg, zeroShare(a) > 0.6);
            else v = (zeroShare(a) > 0.6 ? gemmInt : gemmDense)(a, m, nd.inFeatures, nd.weights, nd.outFeatures, nd.bias);
            break;
          }
          case 'conv2d': v = conv2dInt(a, m, nd.inShape, nd.weights, nd.kernel, nd.strides, nd.padding, nd.bias).values; break;
          case 'sumPool': v = sumPoolInt(a, m, nd.inShape, nd.poolSize, nd.strides).values; break;
          case 'add': v = addInt(a, get(refs[1] ?? -1)); break;
          case 'reshape': v = a; break;
          case 'tlu': {
            const r = kernel === 'reference' ? tluInt(a, a.length / m, nd) : tluFast(a, a.length / m, nd, plan.tables.get(i));
            plan.clamped += r.clamped;
            v = r.values;
            break;
          }
        }
      }
      vals[i] = v;
      if (plan.ranges !== undefined) {
        const mm = minMax(v);
        const rr = plan.ranges[i]!;
        if (mm.min < rr.min) rr.min = mm.min;
        if (mm.max > rr.max) rr.max = mm.max;
      }
      for (const r of refs) if (r >= 0 && plan.lastUse[r] === i && r !== c.output.index) vals[r] = null;
    }
    return get(c.output.index);
  } finally {
    xq?.dispose();
  }
}

/**
 * Run the circuit on X. Accepts a ParsedCircuit or raw circuit JSON (validated first).
 * @example const { predictions } = simulateCircuit(circuit, Xtest);
 * @throws CircuitFormatError for an invalid circuit, DataError for bad X, ConfigError for bad options.
 */
export function simulateCircuit(circuit: ParsedCircuit | unknown, X: SimInput, options: SimulateOptions = {}): SimulationResult {
  const opts = resolveSimOptions(options);
  const c = isParsed(circuit) ? circuit : parseCircuit(circuit);
  const { data, n } = toSimSamples(X, c.inputSize);
  const outSize = c.output.size;
  const outputs = new Float32Array(n * outSize);
  const plan = planSimulation(c, n, opts);
  const batch = opts.batch ?? defaultBatch(c);
  try {
    for (let start = 0; start < n; start += batch) {
      const m = Math.min(batch, n - start);
      const slice = 'subarray' in data && typeof data.subarray === 'function'
        ? (data as Float64Array).subarray(start * c.inputSize, (start + m) * c.inputSize)
        : Array.prototype.slice.call(data, start * c.inputSize, (start + m) * c.inputSize) as number[];
      dequantizeOutput(c, runBatch(plan, slice, m), m, outputs.subarray(start * outSize, (start + m) * outSize));
    }
  } finally {
    for (const p of plan.params.values()) tf.dispose([p.w, ...(p.b === undefined ? [] : [p.b])]);
  }
  const predictions = predictionsOf(outputs, n, outSize, c.output.task, c.output.post);
  const ranges = plan.ranges;
  return { outputs, n, outputSize: outSize, predictions, clampedLookups: plan.clamped, ...(ranges !== undefined ? { nodeRanges: ranges } : {}) };
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
