/**
 * AvgPoolGrad on wasm as a scatter loop over the wasm heap. The built-in kernel takes ~10 ms for the CNN's first
 * pool (128×28×28×8); the loop writes each dx element once per covering window. Used when there is no padding
 * (every window is full, so 1/(fh·fw) is the exact average weight); other cases go to the original kernel.
 * Windows that tile the input exactly (stride = pool, H = oh·fh, W = ow·fw) with C % 4 == 0 run as one f32x4
 * loop writing dx in order: dx = dy · f32(1/(fh·fw)), the float32 multiplier of tfjs' own kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { QatError } from '../../errors.js';
import { assemble, op, T, V, type ValType, type WasmFn } from '../wasm_asm.js';
import { HeapModule } from '../wasm_module.js';
import { asWasmBackend, pair, shape4 } from './kernel_util.js';
import { addr, advanceBy, forUp } from './wasm_loop.js';

const { get, set } = op;

// tiledGrad(dy, dx, outRows, ow, fh, fw, cBytes, mult): dx[(R·fh + i)·ow·fw + q·fw + j, :] = dy[R·ow + q, :] · mult
function tiledGradFn(): WasmFn {
  const [dy, dx, outRows, ow, fh, fw, cb, mult] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [r, i, q, j, o, p, dyRowBytes, vm] = [8, 9, 10, 11, 12, 13, 14, 15];
  return {
    name: 'tiledGrad', params: [T.i32, T.i32, T.i32, T.i32, T.i32, T.i32, T.i32, T.f32], results: [],
    locals: [...Array<ValType>(7).fill(T.i32), T.v128],
    body: [
      ...get(ow), ...get(cb), ...op.i32Mul, ...set(dyRowBytes), ...get(mult), ...op.simd(V.f32x4Splat), ...set(vm),
      ...forUp(r, outRows, 1, [
        ...forUp(i, fh, 1, [
          ...get(dy), ...set(p),
          ...forUp(q, ow, 1, [
            ...forUp(j, fw, 1, [
              ...forUp(o, cb, 16, [...addr(dx, o), ...addr(p, o), ...op.vLoad(), ...get(vm), ...op.simd(V.f32x4Mul), ...op.vStore()]),
              ...advanceBy(dx, cb),
            ]),
            ...advanceBy(p, cb),
          ]),
        ]),
        ...advanceBy(dy, dyRowBytes),
      ]),
    ],
  };
}

/** The module's exports (pointers are byte offsets into the wasm heap). */
interface AvgPoolGradExports {
  tiledGrad(dy: number, dx: number, outRows: number, ow: number, fh: number, fw: number, cBytes: number, mult: number): void;
}

const heapModule = new HeapModule<AvgPoolGradExports>(assemble([tiledGradFn()]));

/**
 * dx[n, oh·sh+i, ow·sw+j, c] += dy[n, oh, ow, c] / (fh·fw) over every window (NHWC, no padding). `dx` is overwritten.
 */
export function avgPoolGradLoop(
  dy: ArrayLike<number>, dx: Float32Array, xShape: [number, number, number, number],
  oh: number, ow: number, fh: number, fw: number, sh: number, sw: number,
): void {
  const [n, h, w, c] = xShape;
  const mult = 1 / (fh * fw);
  dx.fill(0);
  const disjoint = sh >= fh && sw >= fw;
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < oh; r++) {
      for (let q = 0; q < ow; q++) {
        const dyOff = ((b * oh + r) * ow + q) * c;
        for (let i = 0; i < fh; i++) {
          const rowOff = (b * h + r * sh + i) * w;
          for (let j = 0; j < fw; j++) {
            const dxOff = (rowOff + q * sw + j) * c;
            if (disjoint) for (let k = 0; k < c; k++) dx[dxOff + k] = dy[dyOff + k]! * mult;
            else for (let k = 0; k < c; k++) dx[dxOff + k]! += dy[dyOff + k]! * mult;
          }
        }
      }
    }
  }
}

/**
 * Wrap the built-in wasm AvgPoolGrad: unpadded float32 NHWC pools use the heap loop; the rest go to `original`.
 * @param original the kernelFunc registered by tfjs-backend-wasm.
 */
export function wrapAvgPoolGrad(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, attrs } = args;
    const dy = inputs['dy'];
    const input = inputs['input'];
    if (dy === undefined || input === undefined) throw new QatError('AvgPoolGrad (wasm): inputs dy and input are required');
    if (dy.dtype !== 'float32' || input.dtype !== 'float32') return original(args);
    const a = (attrs ?? {}) as Record<string, unknown>;
    const filterSize = pair(a['filterSize'] as number | number[] | undefined, 1);
    const strides = pair(a['strides'] as number | number[] | undefined, 1);
    const pad = a['pad'] as 'valid' | 'same' | number;
    const xShape = shape4(input, 'input');
    const info = tf.backend_util.computePool2DInfo(xShape, filterSize, strides, 1, pad);
    const p = info.padInfo;
    if (p.top !== 0 || p.left !== 0 || p.bottom !== 0 || p.right !== 0 || info.dataFormat !== 'channelsLast') {
      return original(args);
    }
    const [, oh, ow] = shape4(dy, 'dy');
    if (oh !== info.outHeight || ow !== info.outWidth) return original(args);
    const backend = asWasmBackend(args.backend);
    const dx = backend.makeOutput([...xShape], 'float32');
    // Views only after the allocation (malloc may grow the heap and detach older views).
    const dxView = backend.typedArrayFromHeap(dx);
    const dyView = backend.typedArrayFromHeap(dy);
    if (!(dxView instanceof Float32Array)) throw new QatError('AvgPoolGrad (wasm): output is not float32');
    const [n, h, w, c] = xShape;
    const [fh, fw] = [info.filterHeight, info.filterWidth];
    const tiled = info.strideHeight === fh && info.strideWidth === fw && h === oh * fh && w === ow * fw && c % 4 === 0;
    const mod = tiled ? heapModule.bind(args.backend) : null;
    if (mod !== null) {
      mod.tiledGrad(dyView.byteOffset, dxView.byteOffset, n * oh, ow, fh, fw, c * 4, Math.fround(1 / (fh * fw)));
      return dx;
    }
    avgPoolGradLoop(dyView, dxView, xShape, oh, ow, info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth);
    return dx;
  };
}
