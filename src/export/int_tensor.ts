/**
 * Compact storage of integer tensors in circuit JSON: the smallest of int8/int16/int32 that holds every value,
 * as a plain array when small and as base64 of the little-endian typed array otherwise.
 */
import { CircuitFormatError } from '../errors.js';
import type { IntDType, IntTensorJson } from './circuit_schema.js';

/** Tensors with at most this many values are written as plain JSON arrays. */
export const PLAIN_ARRAY_MAX = 64;

/** Largest number of values one stored tensor may hold (guards allocations when reading). */
export const MAX_TENSOR_VALUES = 1 << 26;

const BYTES: Record<IntDType, number> = { int8: 1, int16: 2, int32: 4 };

/** The smallest dtype holding every value of `values`. */
export function smallestDType(values: ArrayLike<number>): IntDType {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] ?? 0;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo >= -128 && hi <= 127) return 'int8';
  if (lo >= -32768 && hi <= 32767) return 'int16';
  return 'int32';
}

/**
 * Encode integers (each a safe int32) as an IntTensorJson.
 * @example encodeIntTensor([1, -2, 3], [3]) // {dtype: 'int8', shape: [3], data: [1, -2, 3]}
 */
export function encodeIntTensor(values: ArrayLike<number>, shape: readonly number[]): IntTensorJson {
  const dtype = smallestDType(values);
  if (values.length <= PLAIN_ARRAY_MAX) return { dtype, shape: [...shape], data: Array.from(values) };
  const arr = dtype === 'int8' ? Int8Array.from(values) : dtype === 'int16' ? Int16Array.from(values) : Int32Array.from(values);
  const le = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
  if (dtype !== 'int8' && !isLittleEndian()) swapBytes(le, BYTES[dtype]);
  return { dtype, shape: [...shape], data: Buffer.from(le).toString('base64') };
}

function isLittleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

function swapBytes(b: Uint8Array, width: number): void {
  for (let i = 0; i + width <= b.length; i += width) b.subarray(i, i + width).reverse();
}

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Validate and decode an IntTensorJson into an Int32Array.
 * @param expectedShape when given, the shape must equal it.
 * @throws CircuitFormatError naming `path` on any problem (type, dtype, shape, length, out-of-range value).
 */
export function decodeIntTensor(json: unknown, path: string, expectedShape?: readonly number[]): { values: Int32Array; shape: number[] } {
  if (!isRecord(json)) throw new CircuitFormatError(path, `must be an integer tensor {dtype, shape, data}, got ${describe(json)}`);
  const dtype = json['dtype'];
  if (dtype !== 'int8' && dtype !== 'int16' && dtype !== 'int32') {
    throw new CircuitFormatError(`${path}.dtype`, `must be 'int8', 'int16' or 'int32', got ${describe(dtype)}`);
  }
  const shape = json['shape'];
  if (!Array.isArray(shape) || shape.length === 0 || shape.length > 8) {
    throw new CircuitFormatError(`${path}.shape`, `must be an array of 1 to 8 positive integers, got ${describe(shape)}`);
  }
  let size = 1;
  shape.forEach((d: unknown, i) => {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 1 || d > MAX_TENSOR_VALUES) {
      throw new CircuitFormatError(`${path}.shape[${i}]`, `must be a positive integer <= ${MAX_TENSOR_VALUES}, got ${describe(d)}`);
    }
    size *= d;
    if (size > MAX_TENSOR_VALUES) throw new CircuitFormatError(`${path}.shape`, `describes more than ${MAX_TENSOR_VALUES} values; tensor too large`);
  });
  const dims = shape as number[];
  if (expectedShape !== undefined && (dims.length !== expectedShape.length || dims.some((d, i) => d !== expectedShape[i]))) {
    throw new CircuitFormatError(`${path}.shape`, `must be [${expectedShape.join(', ')}], got [${dims.join(', ')}]`);
  }
  const lo = dtype === 'int8' ? -128 : dtype === 'int16' ? -32768 : -2147483648;
  const hi = -lo - 1;
  const data = json['data'];
  const out = new Int32Array(size);
  if (Array.isArray(data)) {
    if (data.length !== size) throw new CircuitFormatError(`${path}.data`, `has ${data.length} values but shape [${dims.join(', ')}] needs ${size}`);
    for (let i = 0; i < size; i++) {
      const v: unknown = data[i];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
        throw new CircuitFormatError(`${path}.data[${i}]`, `must be an ${dtype} integer in [${lo}, ${hi}], got ${describe(v)}`);
      }
      out[i] = v;
    }
    return { values: out, shape: dims };
  }
  if (typeof data !== 'string') throw new CircuitFormatError(`${path}.data`, `must be a base64 string or an array of integers, got ${describe(data)}`);
  const bytes = size * BYTES[dtype];
  const b64len = 4 * Math.ceil(bytes / 3);
  if (data.length !== b64len) {
    throw new CircuitFormatError(`${path}.data`, `base64 string has ${data.length} characters but ${size} ${dtype} values need ${b64len}; the tensor is truncated or has the wrong shape`);
  }
  if (!BASE64_RE.test(data)) throw new CircuitFormatError(`${path}.data`, 'is not valid base64');
  const buf = Buffer.from(data, 'base64');
  if (buf.length !== bytes) throw new CircuitFormatError(`${path}.data`, `decodes to ${buf.length} bytes, expected ${bytes}`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (dtype === 'int8') for (let i = 0; i < size; i++) out[i] = dv.getInt8(i);
  else if (dtype === 'int16') for (let i = 0; i < size; i++) out[i] = dv.getInt16(2 * i, true);
  else for (let i = 0; i < size; i++) out[i] = dv.getInt32(4 * i, true);
  return { values: out, shape: dims };
}

/** A short description of a JSON value for error messages. */
export function describe(v: unknown): string {
  if (v === undefined) return 'nothing (missing)';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === 'string') return v.length > 40 ? `a string of length ${v.length}` : JSON.stringify(v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}
