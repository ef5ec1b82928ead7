/**
 * Faster Conv2DBackpropInput on wasm (the built-in kernel is a naive loop).
 *
 * First choice: the SIMD loop of wasm_conv_grad_input.ts (NHWC float32, Cin or Cout a multiple of 4, any stride
 * and padding). Otherwise, with stride 1, dx = conv2d(dy, W', pads [KH−1−pt, …]) where W'[a,b,co,ci] = W[KH−1−a, KW−1−b, ci, co]
 * (spatially flipped, in/out channels swapped): one XNNPACK conv. Other cases (stride > 1, NCHW, negative
 * derived pads) go to the original kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { QatError } from '../../errors.js';
import { asKernelBackend, asWasmBackend, convAttrs, disposeTemps, runKernel, shape4 } from './kernel_util.js';
import { chunkImages, padImages } from './wasm_conv_grad_simd.js';
import { SIMD_OFF } from './wasm_conv2d_backprop_filter.js';
import { dilateGrad, flipFilter, inputGradLoop, inputGradMode, paddedGrad, type InputGradShape } from './wasm_conv_grad_input.js';

const WASM = 'wasm';

/**
 * The SIMD route for NHWC float32 (Cin or Cout a multiple of 4); undefined when it does not apply.
 */
export function simdConv2DBackpropInput(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | undefined {
  const { inputs, attrs, backend: rawBackend } = args;
  const dy = inputs['dy'];
  const filter = inputs['filter'];
  if (dy === undefined || filter === undefined || dy.dtype !== 'float32' || filter.dtype !== 'float32') return undefined;
  const { strides, pad, dataFormat, dimRoundingMode } = convAttrs(attrs);
  const inputShape = (attrs?.['inputShape'] ?? []) as number[];
  if (dataFormat === 'NCHW' || inputShape.length !== 4 || dy.shape.length !== 4 || filter.shape.length !== 4) return undefined;
  const xShape = inputShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(xShape, shape4(filter, 'filter'), strides, 1, pad, dimRoundingMode,
    false, 'channelsLast');
  const [n, h, w, cin] = xShape;
  const [dn, oh, ow, cout] = shape4(dy, 'dy');
  if (dn !== n || oh !== info.outHeight || ow !== info.outWidth || cout !== info.outChannels || n === 0) return undefined;
  const g: InputGradShape = { cin, cout, kh: info.filterHeight, kw: info.filterWidth, h, w };
  const mode = inputGradMode(g);
  if (mode === undefined) return undefined;
  const loop = inputGradLoop(rawBackend, g, mode);
  if (loop === null) return undefined;
  const backend = asWasmBackend(rawBackend);
  const { hq, wq } = paddedGrad(g);
  const pt = g.kh - 1 - info.padInfo.top;
  const pl = g.kw - 1 - info.padInfo.left;
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  const out = backend.makeOutput([...xShape], 'float32');
  const chunk = sh === 1 && sw === 1 ? chunkImages(hq * wq * cout, n) : n;
  const dq = backend.makeOutput([chunk * hq * wq * cout], 'float32');
  const wt = backend.makeOutput([g.kh * g.kw * cin * cout], 'float32');
  try {
    // Views only after the allocations (malloc may grow the heap and detach older views).
    const dqView = backend.typedArrayFromHeap(dq);
    const dyView = backend.typedArrayFromHeap(dy);
    const fView = backend.typedArrayFromHeap(filter);
    const wtView = backend.typedArrayFromHeap(wt);
    if (!(dqView instanceof Float32Array) || !(dyView instanceof Float32Array) || !(fView instanceof Float32Array)
      || !(wtView instanceof Float32Array)) {
      disposeTemps(backend, out);
      return undefined;
    }
    flipFilter(fView, wtView, g, mode);
    const outPtr = backend.typedArrayFromHeap(out).byteOffset;
    if (sh !== 1 || sw !== 1) {
      dilateGrad(dyView, dqView, n, oh, ow, cout, hq, wq, sh, sw, pt, pl);
      loop.dx(dqView.byteOffset, wtView.byteOffset, outPtr, n);
      return out;
    }
    // Stride 1: pad a chunk of images into the (cache-resident) scratch, then run the loop on it.
    const dyImg = oh * ow * cout * 4;
    const dxImg = h * w * cin * 4;
    for (let b = 0; b < n; b += chunk) {
      const k = Math.min(chunk, n - b);
      if (!padImages(rawBackend, dyView.byteOffset + b * dyImg, { h: oh, w: ow, c: cout }, dqView.byteOffset,
        { h: hq, w: wq, c: cout }, k, pt, pl)) dqView.fill(0);
      loop.dx(dqView.byteOffset, wtView.byteOffset, outPtr + b * dxImg, k);
    }
    return out;
  } finally {
    disposeTemps(backend, dq, wt);
  }
}

/**
 * Wrap the built-in wasm Conv2DBackpropInput: the SIMD loop when it applies, else stride-1 NHWC calls become one
 * conv2d; the rest go to `original`.
 * @param original the kernelFunc registered by tfjs-backend-wasm.
 */
export function wrapConv2DBackpropInput(original: tf.KernelFunc): tf.KernelFunc {
  const fallback = xnnConv2DBackpropInput(original);
  return (args) => (SIMD_OFF ? undefined : simdConv2DBackpropInput(args)) ?? fallback(args);
}

/**
 * The XNNPACK route: stride-1 NHWC calls become one conv2d with the flipped filter; the rest go to `original`.
 * @param original the kernelFunc registered by tfjs-backend-wasm.
 */
export function xnnConv2DBackpropInput(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, attrs, backend: rawBackend } = args;
    const dy = inputs['dy'];
    const filter = inputs['filter'];
    if (dy === undefined || filter === undefined) {
      throw new QatError('Conv2DBackpropInput (wasm): inputs dy and filter are required');
    }
    const { strides, pad, dataFormat, dimRoundingMode } = convAttrs(attrs);
    const inputShape = (attrs?.['inputShape'] ?? []) as number[];
    if (dataFormat === 'NCHW' || inputShape.length !== 4 || dy.dtype !== 'float32' || filter.dtype !== 'float32') {
      return original(args);
    }
    const fShape = shape4(filter, 'filter');
    const info = tf.backend_util.computeConv2DInfo(inputShape as [number, number, number, number], fShape, strides, 1,
      pad, dimRoundingMode, false, 'channelsLast');
    if (info.strideHeight !== 1 || info.strideWidth !== 1) return original(args);
    const { filterHeight: kh, filterWidth: kw, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow } = info;
    const top = kh - 1 - info.padInfo.top;
    const left = kw - 1 - info.padInfo.left;
    const bottom = h - 1 + kh - oh - top;
    const right = w - 1 + kw - ow - left;
    if (top < 0 || left < 0 || bottom < 0 || right < 0) return original(args);

    const backend = asKernelBackend(rawBackend);
    const flipped = runKernel('Reverse', WASM, rawBackend, { x: filter }, { dims: [0, 1] });
    let wT: tf.TensorInfo;
    try {
      wT = runKernel('Transpose', WASM, rawBackend, { x: flipped }, { perm: [0, 1, 3, 2] });
    } finally {
      disposeTemps(backend, flipped);
    }
    try {
      return runKernel('Conv2D', WASM, rawBackend, { x: dy, filter: wT },
        { strides: [1, 1], pad: [[0, 0], [top, bottom], [left, right], [0, 0]], dataFormat: 'NHWC', dilations: [1, 1] });
    } finally {
      disposeTemps(backend, wT);
    }
  };
}
