/**
 * AvgPool on wasm for 2×2 windows with stride 2 and no padding (NHWC float32, C % 4 == 0) as one f32x4 loop.
 * The sum order is XNNPACK's (the kernel tfjs-backend-wasm calls): (x[0,0] + x[1,0]) + (x[0,1] + x[1,1]), then
 * × 0.25, so outputs are bit-identical to the original kernel. Other pools go to the original kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { assemble, op, T, V, type ValType, type WasmFn } from '../wasm_asm.js';
import { HeapModule } from '../wasm_module.js';
import { asWasmBackend, pair } from './kernel_util.js';
import { addr, advance, advanceBy, forUp } from './wasm_loop.js';

const { get, set } = op;
const s = op.simd;

// avgPool22(x, out, outRows, ow, cBytes, rowBytes): outRows output rows of ow pixels; input rows of rowBytes.
function avgPool22Fn(): WasmFn {
  const [x, out, outRows, ow, cb, rowBytes, r, q, o, p, pixBytes] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const ld = (extra: number[]): number[] => [...addr(p, o), ...extra, ...op.vLoad()];
  const plusRow = [...get(rowBytes), ...op.i32Add];
  const plusPix = [...get(cb), ...op.i32Add];
  return {
    name: 'avgPool22', params: [T.i32, T.i32, T.i32, T.i32, T.i32, T.i32], results: [], locals: Array<ValType>(5).fill(T.i32),
    body: [
      ...get(cb), ...op.i32(1), ...op.i32Shl, ...set(pixBytes),
      ...forUp(r, outRows, 1, [
        ...get(x), ...set(p),
        ...forUp(q, ow, 1, [
          ...forUp(o, cb, 16, [
            ...get(out),
            ...ld([]), ...ld(plusRow), ...s(V.f32x4Add),
            ...ld(plusPix), ...ld([...plusPix, ...plusRow]), ...s(V.f32x4Add), ...s(V.f32x4Add),
            ...op.vConstF32(0.25), ...s(V.f32x4Mul), ...op.vStore(),
            ...advance(out, 16),
          ]),
          ...advanceBy(p, pixBytes),
        ]),
        ...advanceBy(x, rowBytes), ...advanceBy(x, rowBytes),
      ]),
    ],
  };
}

/** The module's exports (pointers are byte offsets into the wasm heap). */
interface AvgPoolExports {
  avgPool22(x: number, out: number, outRows: number, ow: number, cBytes: number, rowBytes: number): void;
}

const heapModule = new HeapModule<AvgPoolExports>(
  assemble([avgPool22Fn()]),
);

/**
 * Wrap the wasm AvgPool: float32 NHWC 2×2/stride-2 pools without padding and C % 4 == 0 run the SIMD loop.
 * @param original the kernelFunc registered by tfjs-backend-wasm.
 */
export function wrapAvgPool(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs['x'];
    if (x === undefined || x.dtype !== 'float32' || x.shape.length !== 4) return original(args);
    const a = (args.attrs ?? {}) as Record<string, unknown>;
    const [fh, fw] = pair(a['filterSize'] as number | number[] | undefined, 1);
    const [sh, sw] = pair(a['strides'] as number | number[] | undefined, 1);
    const [n, h, w, c] = x.shape as [number, number, number, number];
    if (fh !== 2 || fw !== 2 || sh !== 2 || sw !== 2 || c % 4 !== 0 || c === 0) return original(args);
    const info = tf.backend_util.computePool2DInfo([n, h, w, c], [2, 2], [2, 2], 1,
      a['pad'] as 'valid' | 'same' | number, a['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined);
    const p = info.padInfo;
    if (p.top !== 0 || p.left !== 0 || p.bottom !== 0 || p.right !== 0 || info.dataFormat !== 'channelsLast') return original(args);
    const mod = heapModule.bind(args.backend);
    if (mod === null) return original(args);
    const backend = asWasmBackend(args.backend);
    const oh = info.outHeight;
    const ow = info.outWidth;
    const out = backend.makeOutput([n, oh, ow, c], 'float32');
    // Views only after the allocation (malloc may grow the heap and detach older views).
    const xo = backend.typedArrayFromHeap(x).byteOffset;
    const oo = backend.typedArrayFromHeap(out).byteOffset;
    const rowBytes = w * c * 4;
    if (h === 2 * oh) {
      mod.avgPool22(xo, oo, n * oh, ow, c * 4, rowBytes);
    } else {
      // Odd height: each image's last row is not covered, so the images run one by one.
      for (let b = 0; b < n; b++) mod.avgPool22(xo + b * h * rowBytes, oo + b * oh * ow * c * 4, oh, ow, c * 4, rowBytes);
    }
    return out;
  };
}
