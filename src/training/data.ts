/**
 * Input conversion and validation for the estimators: X as `number[][]`, `{data, shape}` or a tf.Tensor
 * (2-D tabular or 4-D NHWC images); y as numbers, strings, rows of numbers or a tensor.
 * Every problem is a DataError that names the argument, the value received and the fix.
 */
import * as tf from '@tensorflow/tfjs';
import { DataError } from '../errors.js';

/** A flat buffer plus its shape, `shape[0]` = number of samples. */
export interface FlatArray {
  /** Row-major values. */
  readonly data: Float32Array | Float64Array | ArrayLike<number>;
  /** `[nSamples, ...sampleShape]`. */
  readonly shape: readonly number[];
}

/** Accepted feature inputs. */
export type FeatureInput = readonly (readonly number[])[] | FlatArray | tf.Tensor;

/** Accepted targets: class labels (numbers or strings), regression values or rows, or a tensor. */
export type TargetInput = ArrayLike<number> | readonly string[] | readonly (number | string)[] | readonly (readonly number[])[] | tf.Tensor;

/** Features converted to one float32 tensor. */
export interface Features {
  /** `[nSamples, ...sampleShape]`, float32. The caller owns it (dispose when done). */
  readonly tensor: tf.Tensor;
  readonly nSamples: number;
  /** Shape of one sample, e.g. `[30]` or `[28, 28, 1]`. */
  readonly sampleShape: number[];
}

function checkFinite(values: ArrayLike<number>, rowLen: number, what: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) {
      const row = Math.floor(i / Math.max(1, rowLen));
      const col = i - row * rowLen;
      throw new DataError(`${what} contains ${String(v)} at row ${row}, column ${col}; ` +
        'remove or impute non-finite values (NaN/Infinity) before training');
    }
  }
}

function isFlatArray(x: unknown): x is FlatArray {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof tf.Tensor) &&
    'data' in x && 'shape' in x;
}

/**
 * Convert and validate features.
 * @param expectedSampleShape when given (predict after fit), the sample shape must match it.
 * @throws DataError on an empty set, ragged rows, a wrong shape, non-numbers, NaN or Infinity.
 * @example const { tensor } = toFeatures([[1, 2], [3, 4]]);
 */
export function toFeatures(X: FeatureInput, what = 'X', expectedSampleShape?: readonly number[]): Features {
  let data: Float32Array;
  let shape: number[];
  if (X instanceof tf.Tensor) {
    if (X.rank !== 2 && X.rank !== 4) {
      throw new DataError(`${what} must be a 2-D [samples, features] or 4-D [samples, h, w, c] tensor; got rank ${X.rank} (shape [${X.shape.join(', ')}])`);
    }
    data = Float32Array.from(X.dataSync() as ArrayLike<number>);
    shape = [...X.shape];
  } else if (isFlatArray(X)) {
    shape = [...X.shape];
    if (shape.length !== 2 && shape.length !== 4) {
      throw new DataError(`${what}.shape must have 2 or 4 entries ([samples, features] or [samples, h, w, c]); got [${shape.join(', ')}]`);
    }
    if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new DataError(`${what}.shape must hold non-negative integers; got [${shape.join(', ')}]`);
    }
    const size = shape.reduce((a, b) => a * b, 1);
    if (X.data.length !== size) {
      throw new DataError(`${what}.data has ${X.data.length} values but shape [${shape.join(', ')}] needs ${size}`);
    }
    data = X.data instanceof Float32Array ? X.data : Float32Array.from(X.data);
  } else if (Array.isArray(X)) {
    const rows = X as readonly unknown[];
    const first = rows[0];
    const nCols = Array.isArray(first) ? first.length : -1;
    if (rows.length > 0 && nCols < 0) {
      throw new DataError(`${what} must be an array of rows (number[][]); row 0 is ${typeof first}`);
    }
    data = new Float32Array(rows.length * Math.max(0, nCols));
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      if (!Array.isArray(row) || row.length !== nCols) {
        throw new DataError(`${what} is ragged: row ${r} has ${Array.isArray(row) ? row.length : 'no'} values, row 0 has ${nCols}; every row needs the same number of features`);
      }
      for (let c = 0; c < nCols; c++) {
        const v: unknown = row[c];
        if (typeof v !== 'number') {
          throw new DataError(`${what}[${r}][${c}] is ${JSON.stringify(v)} (${typeof v}); features must be numbers (encode categories first)`);
        }
        data[r * nCols + c] = v;
      }
    }
    shape = [rows.length, Math.max(0, nCols)];
  } else {
    throw new DataError(`${what} must be number[][], {data, shape} or a tf.Tensor; got ${typeof X}`);
  }
  const nSamples = shape[0] ?? 0;
  const sampleShape = shape.slice(1);
  const rowLen = sampleShape.reduce((a, b) => a * b, 1);
  if (nSamples === 0) throw new DataError(`${what} is empty (0 samples); pass at least one sample`);
  if (rowLen === 0) throw new DataError(`${what} has 0 features per sample (shape [${shape.join(', ')}])`);
  if (expectedSampleShape !== undefined && (expectedSampleShape.length !== sampleShape.length ||
      expectedSampleShape.some((d, i) => d !== sampleShape[i]))) {
    throw new DataError(`${what} has samples of shape [${sampleShape.join(', ')}] but the model was fitted on [${expectedSampleShape.join(', ')}]; ` +
      'pass the same features (same columns, same order) as during fit');
  }
  checkFinite(data, rowLen, what);
  return { tensor: tf.tensor(data, shape, 'float32'), nSamples, sampleShape };
}

/**
 * Flatten targets to a JS array of labels or numbers, checking the sample count.
 * @throws DataError when the count differs from `nSamples` or y is empty.
 */
export function toTargetList(y: TargetInput, nSamples: number, what = 'y'): Array<number | string | readonly number[]> {
  let out: Array<number | string | readonly number[]>;
  if (y instanceof tf.Tensor) {
    if (y.rank === 1) out = Array.from(y.dataSync() as ArrayLike<number>);
    else if (y.rank === 2) out = (y.arraySync() as number[][]);
    else throw new DataError(`${what} must be a 1-D or 2-D tensor; got shape [${y.shape.join(', ')}]`);
  } else if (typeof y === 'object' && y !== null && 'length' in y) {
    out = Array.from(y as ArrayLike<number | string | readonly number[]>);
  } else {
    throw new DataError(`${what} must be an array or a tf.Tensor; got ${typeof y}`);
  }
  if (out.length === 0) throw new DataError(`${what} is empty; pass one target per sample`);
  if (out.length !== nSamples) {
    throw new DataError(`${what} has ${out.length} entries but X has ${nSamples} samples; pass one target per sample`);
  }
  return out;
}

/**
 * Regression targets as a `[n, nOutputs]` float matrix.
 * @throws DataError on non-numbers, NaN/Infinity or rows of different lengths.
 */
export function toRegressionTargets(y: TargetInput, nSamples: number, what = 'y'): { data: Float32Array; nOutputs: number } {
  const list = toTargetList(y, nSamples, what);
  const first = list[0];
  const nOutputs = Array.isArray(first) ? first.length : 1;
  const data = new Float32Array(nSamples * nOutputs);
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    const row = Array.isArray(v) ? (v as readonly unknown[]) : [v];
    if (row.length !== nOutputs) throw new DataError(`${what}[${i}] has ${row.length} values, ${what}[0] has ${nOutputs}`);
    for (let j = 0; j < nOutputs; j++) {
      const x: unknown = row[j];
      if (typeof x !== 'number' || !Number.isFinite(x)) {
        throw new DataError(`${what}[${i}] is ${JSON.stringify(x) ?? String(x)}; regression targets must be finite numbers`);
      }
      data[i * nOutputs + j] = x;
    }
  }
  return { data, nOutputs };
}
