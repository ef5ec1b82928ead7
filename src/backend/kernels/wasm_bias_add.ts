/**
 * Add on wasm for the bias broadcast `[..., C] + [C]` (conv and dense bias): tfjs-backend-wasm 4.22 sends it
 * through its generic broadcast loop (3.9 ms for [128,28,28,8] + [8]). Here one loop over rows adds the bias
 * vector: f32x4 when C % 4 == 0, scalar wasm otherwise. Each output is one float32 addition, as in tfjs (bit-exact).
 * The bias may be given as [C] or [1, ..., 1, C] on either side; every other Add goes to the original kernel.
 */
import type * as tf from '@tensorflow/tfjs';
import { assemble, op, T, V, type WasmFn } from '../wasm_asm.js';
import { HeapModule } from '../wasm_module.js';
import { asWasmBackend } from './kernel_util.js';
import { addr, advanceBy, forUp } from './wasm_loop.js';

// addBias(x, b, out, rows, cBytes): out[r, c] = x[r, c] + b[c]; vector (16-byte) or scalar (4-byte) steps.
function addBiasFn(name: string, vector: boolean): WasmFn {
  const [x, b, out, rows, cb, r, o] = [0, 1, 2, 3, 4, 5, 6];
  const step = vector ? 16 : 4;
  const load = vector ? op.vLoad() : op.f32Load();
  const body = [
    ...addr(out, o), ...addr(x, o), ...load, ...addr(b, o), ...load,
    ...(vector ? op.simd(V.f32x4Add) : op.f32Add), ...(vector ? op.vStore() : op.f32Store()),
  ];
  return {
    name, params: [T.i32, T.i32, T.i32, T.i32, T.i32], results: [], locals: [T.i32, T.i32],
    body: forUp(r, rows, 1, [...forUp(o, cb, step, body), ...advanceBy(x, cb), ...advanceBy(out, cb)]),
  };
}

/** The module's exports (pointers are byte offsets into the wasm heap). */
interface BiasAddExports {
  addBiasV(x: number, b: number, out: number, rows: number, cBytes: number): void;
  addBiasS(x: number, b: number, out: number, rows: number, cBytes: number): void;
}

const heapModule = new HeapModule<BiasAddExports>(assemble([addBiasFn('addBiasV', true), addBiasFn('addBiasS', false)]));

/** True when `bias` is [C] or [1, ..., 1, C] with C the last dim of `x`, rank(bias) <= rank(x), and x is larger. */
export function isBiasOf(bias: readonly number[], x: readonly number[]): boolean {
  const c = x[x.length - 1];
  if (x.length < 2 || bias.length < 1 || bias.length > x.length || c === undefined) return false;
  if (bias[bias.length - 1] !== c) return false;
  for (let i = 0; i < bias.length - 1; i++) if (bias[i] !== 1) return false;
  return x.reduce((p, q) => p * q, 1) > c;
}

/**
 * Wrap the wasm Add: float32 `[..., C] + [C]` (either order) runs the bias loop; the rest go to `original`.
 * @param original the kernelFunc registered by tfjs-backend-wasm.
 */
export function wrapBiasAdd(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { a, b } = args.inputs;
    if (a === undefined || b === undefined || a.dtype !== 'float32' || b.dtype !== 'float32') return original(args);
    let x: tf.TensorInfo;
    let bias: tf.TensorInfo;
    if (isBiasOf(b.shape, a.shape)) [x, bias] = [a, b];
    else if (isBiasOf(a.shape, b.shape)) [x, bias] = [b, a];
    else return original(args);
    const mod = heapModule.bind(args.backend);
    if (mod === null) return original(args);
    const backend = asWasmBackend(args.backend);
    const c = x.shape[x.shape.length - 1]!;
    const rows = x.shape.reduce((p, q) => p * q, 1) / c;
    const out = backend.makeOutput([...x.shape], 'float32');
    // Views only after the allocation (malloc may grow the heap and detach older views).
    const xo = backend.typedArrayFromHeap(x).byteOffset;
    const bo = backend.typedArrayFromHeap(bias).byteOffset;
    const oo = backend.typedArrayFromHeap(out).byteOffset;
    if (c % 4 === 0) mod.addBiasV(xo, bo, oo, rows, c * 4);
    else mod.addBiasS(xo, bo, oo, rows, c * 4);
    return out;
  };
}
