/**
 * AvgPoolGrad on wasm as a scatter loop over the wasm heap. The built-in kernel takes ~10 ms for the CNN's first
 * pool (128×28×28×8); the loop writes each dx element once per covering window (~1-2 ms). Used when there is no
 * padding (every window is full, so 1/(fh·fw) is the exact average weight); other cases go to the original kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { QatError } from '../../errors.js';
import { asWasmBackend, pair, shape4 } from './kernel_util.js';

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
    avgPoolGradLoop(dyView, dxView, xShape, oh, ow, info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth);
    return dx;
  };
}
