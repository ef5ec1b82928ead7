/**
 * Sum on wasm over all leading axes of [..., C] → [C] (the bias gradient). tfjs-backend-wasm 4.22 transposes the
 * input to [C, rows] and then sums each row sequentially in float32 (2.7 ms for [128,28,28,8]). Here the column
 * sums run in one pass over the rows, f32x4 loads widened to f64x2 accumulators (C % 4 == 0; a JS loop with
 * float64 accumulators otherwise); each channel is rounded to float32 once at the end.
 *
 * Accumulation order: per channel, rows in order 0..R-1 like tfjs, but in float64 instead of float32, so the
 * result is the float64 sum rounded once (relative error <= 2^-24 plus R·2^-53 of the float64 accumulation),
 * where tfjs' float32 running sum drifts by up to ~R·2^-24. The two therefore differ in the last float32 bits.
 * Other reductions (other axes, int32, keepDims with other axes) go to the original kernel.
 */
import type * as tf from '@tensorflow/tfjs';
import { assemble, op, T, V, type ValType, type WasmFn } from '../wasm_asm.js';
import { HeapModule } from '../wasm_module.js';
import { asWasmBackend } from './kernel_util.js';
import { advanceBy, forUp } from './wasm_loop.js';

const { get, set } = op;
const s = op.simd;
const HIGH_TO_LOW = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];

// colSum<k>(x, out, rows, rowBytes): out[0 .. 4k) = sum over rows of x[r·rowBytes + 0 .. 4k) (k f32x4 vectors).
function colSumFn(k: number): WasmFn {
  const [x, out, rows, rb, r, v] = [0, 1, 2, 3, 4, 5];
  const acc = (j: number): number => 6 + j; // 2k f64x2 accumulators
  const load: number[] = [];
  for (let j = 0; j < k; j++) {
    load.push(
      ...get(x), ...op.vLoad(16 * j), ...op.set(v),
      ...get(acc(2 * j)), ...get(v), ...s(V.f64x2PromoteLow), ...s(V.f64x2Add), ...set(acc(2 * j)),
      ...get(acc(2 * j + 1)), ...get(v), ...get(v), ...s(V.shuffle, ...HIGH_TO_LOW), ...s(V.f64x2PromoteLow), ...s(V.f64x2Add),
      ...set(acc(2 * j + 1)),
    );
  }
  const store: number[] = [];
  for (let j = 0; j < 2 * k; j++) {
    for (let l = 0; l < 2; l++) {
      store.push(...get(out), ...get(acc(j)), ...s(V.f64x2Extract, l), ...op.f32DemoteF64, ...op.f32Store(8 * j + 4 * l));
    }
  }
  return {
    name: `colSum${k}`, params: [T.i32, T.i32, T.i32, T.i32], results: [],
    locals: [T.i32, T.v128, ...Array<ValType>(2 * k).fill(T.v128)],
    body: [...forUp(r, rows, 1, [...load, ...advanceBy(x, rb)]), ...store],
  };
}

/** The module's exports (pointers are byte offsets into the wasm heap). */
interface ReduceExports {
  colSum1(x: number, out: number, rows: number, rowBytes: number): void;
  colSum2(x: number, out: number, rows: number, rowBytes: number): void;
  colSum4(x: number, out: number, rows: number, rowBytes: number): void;
}

const heapModule = new HeapModule<ReduceExports>(assemble([colSumFn(1), colSumFn(2), colSumFn(4)]));

/** Column sums of a row-major [rows, c] array with float64 accumulators (the C % 4 != 0 path). */
export function colSumJs(x: ArrayLike<number>, out: Float32Array, rows: number, c: number): void {
  const acc = new Float64Array(c);
  for (let r = 0, o = 0; r < rows; r++, o += c) for (let j = 0; j < c; j++) acc[j]! += x[o + j]!;
  out.set(acc);
}

/** True when `axis` (number or list, negatives allowed) names exactly the axes 0 .. rank-2. */
export function isLeadingAxes(axis: unknown, rank: number): boolean {
  const list = typeof axis === 'number' ? [axis] : Array.isArray(axis) ? axis : null;
  if (list === null || rank < 2 || list.length !== rank - 1) return false;
  const seen = new Set<number>();
  for (const a of list) {
    if (typeof a !== 'number' || !Number.isInteger(a) || a < -rank || a >= rank) return false;
    seen.add(a < 0 ? a + rank : a);
  }
  for (let i = 0; i < rank - 1; i++) if (!seen.has(i)) return false;
  return true;
}

/**
 * Wrap the wasm Sum: float32 sums over all leading axes use the column-sum loop; the rest go to `original`.
 * @param original the kernelFunc registered by tfjs-backend-wasm.
 */
export function wrapColumnSum(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs['x'];
    const attrs = (args.attrs ?? {}) as Record<string, unknown>;
    if (x === undefined || x.dtype !== 'float32' || !isLeadingAxes(attrs['axis'], x.shape.length)) return original(args);
    const c = x.shape[x.shape.length - 1]!;
    const rows = x.shape.reduce((p, q) => p * q, 1) / c;
    if (c === 0 || rows === 0) return original(args);
    const mod = c % 4 === 0 ? heapModule.bind(args.backend) : null;
    if (c % 4 === 0 && mod === null) return original(args);
    const backend = asWasmBackend(args.backend);
    const shape = attrs['keepDims'] === true ? [...x.shape.slice(0, -1).map(() => 1), c] : [c];
    const out = backend.makeOutput(shape, 'float32');
    // Views only after the allocation (malloc may grow the heap and detach older views).
    const xv = backend.typedArrayFromHeap(x);
    const ov = backend.typedArrayFromHeap(out) as Float32Array;
    if (mod === null) {
      colSumJs(xv, ov, rows, c);
      return out;
    }
    const rowBytes = c * 4;
    for (let j = 0; j < c;) {
      const k = c - j >= 16 ? 4 : c - j >= 8 ? 2 : 1;
      const xo = xv.byteOffset + 4 * j;
      const oo = ov.byteOffset + 4 * j;
      if (k === 4) mod.colSum4(xo, oo, rows, rowBytes);
      else if (k === 2) mod.colSum2(xo, oo, rows, rowBytes);
      else mod.colSum1(xo, oo, rows, rowBytes);
      j += 4 * k;
    }
    return out;
  };
}
