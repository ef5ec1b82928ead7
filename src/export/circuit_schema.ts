/**
 * The mixed-integer circuit format (documented in docs/circuit-format.md), after Concrete ML's QuantizedModule:
 * an input quantizer applied in the clear, integer "mixing" nodes (gemm, conv2d, sumPool, add) with integer
 * weights, table-lookup (tlu) nodes that hold every fused chain of univariate float operations, and an output
 * dequantizer applied in the clear. `formatVersion` comes first; nodes are a union on `op`.
 *
 * Two forms exist: `CircuitJson` (what is written to disk: plain JSON, large integer tensors as base64) and
 * `ParsedCircuit` (validated by `parseCircuit`, tensors decoded into typed arrays, ready to simulate).
 */

/** Version of the circuit format written by this library. Readers refuse newer versions. */
export const CIRCUIT_FORMAT_VERSION = 1;

/** Element type of a stored integer tensor. */
export type IntDType = 'int8' | 'int16' | 'int32';

/**
 * An integer tensor: row-major values, either a plain JSON array of integers or a base64 string of the
 * little-endian typed array of `dtype` (Int8Array, Int16Array or Int32Array).
 */
export interface IntTensorJson {
  readonly dtype: IntDType;
  readonly shape: readonly number[];
  readonly data: string | readonly number[];
}

/** An inclusive integer range and the bits needed to hold it (signed when min < 0). */
export interface IntRangeJson {
  readonly min: number;
  readonly max: number;
  readonly bits: number;
}

/** The input quantizer, applied in the clear: q = clamp(roundHalfEven(f32(x / scale) + zeroPoint), min, max). */
export interface InputQuantJson {
  readonly scale: number;
  readonly zeroPoint: number;
  readonly bitWidth: number;
  readonly signed: boolean;
  readonly narrowRange: boolean;
}

/** Fields every node has. */
export interface NodeBaseJson {
  /** Unique node name (usually the source layer's name). */
  readonly name: string;
  /** Per-sample output shape (no batch axis). */
  readonly shape: readonly number[];
  /** Output range seen on the calibration data. */
  readonly range: IntRangeJson;
  /** Worst-case output range from the weights and the input's worst case. */
  readonly worstCase: IntRangeJson;
}

/** Integer matrix product: acc[o] = sum_i x[i] * W[i, o] (+ bias[o]). Input rank 1. */
export interface GemmNodeJson extends NodeBaseJson {
  readonly op: 'gemm';
  readonly input: string;
  /** [inFeatures, outFeatures]. */
  readonly weights: IntTensorJson;
  /** [outFeatures] integers added in the accumulator, or null. */
  readonly bias: IntTensorJson | null;
}

/** Integer NHWC convolution; zero padding. */
export interface Conv2dNodeJson extends NodeBaseJson {
  readonly op: 'conv2d';
  readonly input: string;
  /** [kh, kw, cin, cout]. */
  readonly weights: IntTensorJson;
  /** [cout] or null. */
  readonly bias: IntTensorJson | null;
  /** [strideH, strideW]. */
  readonly strides: readonly [number, number];
  /** [top, bottom, left, right]. */
  readonly padding: readonly [number, number, number, number];
}

/** Integer sum pooling (valid padding) over NHWC windows. */
export interface SumPoolNodeJson extends NodeBaseJson {
  readonly op: 'sumPool';
  readonly input: string;
  readonly poolSize: readonly [number, number];
  readonly strides: readonly [number, number];
}

/** Element-wise sum of two encrypted tensors of the same shape. */
export interface AddNodeJson extends NodeBaseJson {
  readonly op: 'add';
  readonly inputs: readonly [string, string];
}

/** Reshape (flatten): data unchanged, `shape` is the new shape (same size). */
export interface ReshapeNodeJson extends NodeBaseJson {
  readonly op: 'reshape';
  readonly input: string;
}

/** Rounding of the TLU input before the lookup. */
export type TluRounding = 'halfEven' | 'halfUp';

/**
 * Table lookup. r = shift > 0 ? round(x / 2^shift) (ties per `rounding`) : x; r is clamped to [inMin, inMax];
 * out = tables[e % nTables][r - inMin], e the element's flat index in the sample (so with nTables = channels,
 * one table per last-axis channel). Every chain of univariate ops between two quantizers is one TLU.
 */
export interface TluNodeJson extends NodeBaseJson {
  readonly op: 'tlu';
  readonly input: string;
  readonly shift: number;
  readonly rounding: TluRounding;
  readonly inMin: number;
  readonly inMax: number;
  /** [nTables, inMax - inMin + 1]. */
  readonly tables: IntTensorJson;
}

/** Any circuit node. */
export type NodeJson = GemmNodeJson | Conv2dNodeJson | SumPoolNodeJson | AddNodeJson | ReshapeNodeJson | TluNodeJson;

/** Names of the node ops. */
export const NODE_OPS = ['gemm', 'conv2d', 'sumPool', 'add', 'reshape', 'tlu'] as const;

/** Float post-processing applied in the clear after dequantization. */
export type OutputPost = 'none' | 'relu' | 'sigmoid' | 'tanh' | 'softmax';

/** The output dequantizer, in the clear: y[e] = f32(f32(q[e] * scale[e % C]) + offset[e % C]), then `post`. */
export interface OutputJson {
  readonly input: string;
  /** One scale, or one per last-axis channel. */
  readonly scale: readonly number[];
  /** Float offsets (the float bias of a last QuantLinear), same length as scale, or null. */
  readonly offset: readonly number[] | null;
  readonly post: OutputPost;
  /** 'classification' (prediction = argmax) or 'regression' (prediction = value). */
  readonly task: 'classification' | 'regression';
}

/** The whole circuit document. */
export interface CircuitJson {
  readonly formatVersion: number;
  readonly producer: string;
  /** Per-sample input shape. */
  readonly inputShape: readonly number[];
  readonly input: InputQuantJson;
  readonly nodes: readonly NodeJson[];
  readonly output: OutputJson;
  /** Free-form export report (bit widths, PoT, rounding); not needed to simulate. */
  readonly report?: unknown;
  /** Free-form provenance (e.g. the model folder). */
  readonly meta?: Readonly<Record<string, unknown>>;
}

/** A decoded node: like its JSON but with typed arrays. */
export type ParsedNode =
  | (Omit<GemmNodeJson, 'weights' | 'bias'> & { readonly weights: Int32Array; readonly bias: Int32Array | null; readonly inFeatures: number; readonly outFeatures: number })
  | (Omit<Conv2dNodeJson, 'weights' | 'bias'> & { readonly weights: Int32Array; readonly bias: Int32Array | null; readonly kernel: readonly [number, number, number, number]; readonly inShape: readonly [number, number, number] })
  | (SumPoolNodeJson & { readonly inShape: readonly [number, number, number] })
  | AddNodeJson
  | ReshapeNodeJson
  | (Omit<TluNodeJson, 'tables'> & { readonly tables: Int32Array; readonly nTables: number });

/** A validated circuit, ready for `simulateCircuit`. */
export interface ParsedCircuit {
  readonly parsed: true;
  readonly formatVersion: number;
  readonly inputShape: readonly number[];
  readonly inputSize: number;
  readonly input: InputQuantJson;
  readonly nodes: readonly ParsedNode[];
  /** For each node, the indices of its inputs in `nodes` (-1 = circuit input). */
  readonly inputIndex: readonly (readonly number[])[];
  readonly output: OutputJson & { readonly index: number; readonly size: number };
  readonly source: CircuitJson;
}

export { parseCircuit } from './circuit_parse.js';
