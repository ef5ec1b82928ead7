/**
 * Conv2DBackpropFilter for the wasm backend (tfjs-backend-wasm 4.22 has none, so conv layers cannot train).
 *
 * First choice: the SIMD loop of wasm_conv_grad_filter.ts (NHWC float32, Cout a multiple of 4, any stride and
 * padding); for the small channel counts of a CNN it is ~5-10× faster than the XNNPACK route below.
 *
 * XNNPACK route (the fallback): the filter gradient dW[kh,kw,ci,co] = Σ_{n,oh,ow} x[n, oh·s+kh−pt, ow·s+kw−pl, ci] · dy[n,oh,ow,co] is itself a
 * convolution: with xᵀ = x as [Cin, H, W, N] ("batch" Cin, "channels" N) and dyᵀ = dy as [OH, OW, N, Cout]
 * (a filter of spatial size OH×OW), conv2d(xᵀ, dyᵀ, stride 1, dilation = s) is [Cin, KH, KW, Cout].
 * So: two transposes, one XNNPACK conv, one transpose, all through the wasm kernels' own kernelFunc
 * (nothing is taped), temporaries freed with backend.disposeData.
 */
import * as tf from '@tensorflow/tfjs';
import { QatError } from '../../errors.js';
import { asKernelBackend, asWasmBackend, convAttrs, disposeTemps, pair, runKernel, shape4 } from './kernel_util.js';
import { filterGrad, filterGradSupported, paddedInput, type FilterGradShape } from './wasm_conv_grad_filter.js';
import { chunkImages } from './wasm_conv_grad_simd.js';

const WASM = 'wasm';
/** `TFJS_QAT_NO_CONV_SIMD=1` keeps the XNNPACK routes of both conv gradients (for before/after benchmarks). */
export const SIMD_OFF = process.env['TFJS_QAT_NO_CONV_SIMD'] === '1';

/** The XNNPACK route: Conv2DBackpropFilter on wasm (NHWC or NCHW, any stride, same/valid/explicit pads, dilation 1). */
export function xnnConv2DBackpropFilter(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { inputs, backend: rawBackend, attrs } = args;
  const backend = asKernelBackend(rawBackend);
  const x = inputs['x'];
  const dy = inputs['dy'];
  if (x === undefined || dy === undefined) throw new QatError('Conv2DBackpropFilter (wasm): inputs x and dy are required');
  const { strides, pad, dataFormat, dimRoundingMode } = convAttrs(attrs);
  const filterShapeAttr = (attrs?.['filterShape'] ?? []) as number[];
  if (filterShapeAttr.length !== 4) {
    throw new QatError(`Conv2DBackpropFilter (wasm): filterShape must have 4 dims, got [${filterShapeAttr.join(', ')}]`);
  }
  const filterShape = filterShapeAttr as [number, number, number, number];
  const channelsLast = dataFormat !== 'NCHW';
  const convInfo = tf.backend_util.computeConv2DInfo(shape4(x, 'x'), filterShape, strides, 1, pad, dimRoundingMode,
    false, tf.backend_util.convertConv2DDataFormat(dataFormat));
  const { filterHeight: kh, filterWidth: kw, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow } = convInfo;
  const [sh, sw] = pair([convInfo.strideHeight, convInfo.strideWidth], 1);
  const padTop = convInfo.padInfo.top;
  const padLeft = convInfo.padInfo.left;
  // Rows of x the gradient reads: padTop rows of zeros before, then up to row (oh-1)*sh + kh - 1 - padTop.
  const padBottom = kh + (oh - 1) * sh - h - padTop;
  const padRight = kw + (ow - 1) * sw - w - padLeft;

  // xᵀ: [Cin, H, W, N]; dyᵀ: [OH, OW, N, Cout].
  let xT = runKernel('Transpose', WASM, rawBackend, { x }, { perm: channelsLast ? [3, 1, 2, 0] : [1, 2, 3, 0] });
  const dyT = runKernel('Transpose', WASM, rawBackend, { x: dy }, { perm: channelsLast ? [1, 2, 0, 3] : [2, 3, 0, 1] });
  if (padBottom < 0 || padRight < 0) {
    // Trailing rows/cols never touched by any output position (e.g. 'valid' with stride 2 on an odd size): crop them.
    const [c, hh, ww, n] = shape4(xT, 'xT');
    const cropped = runKernel('Slice', WASM, rawBackend, { x: xT },
      { begin: [0, 0, 0, 0], size: [c, hh + Math.min(padBottom, 0), ww + Math.min(padRight, 0), n] });
    disposeTemps(backend, xT);
    xT = cropped;
  }
  const explicit: tf.backend_util.ExplicitPadding =
    [[0, 0], [padTop, Math.max(padBottom, 0)], [padLeft, Math.max(padRight, 0)], [0, 0]];
  let dWT: tf.TensorInfo;
  try {
    dWT = runKernel('Conv2D', WASM, rawBackend, { x: xT, filter: dyT },
      { strides: [1, 1], pad: explicit, dataFormat: 'NHWC', dilations: [sh, sw], dimRoundingMode: 'floor' });
  } finally {
    disposeTemps(backend, xT, dyT);
  }
  const s = dWT.shape;
  if (s[1] !== kh || s[2] !== kw) {
    disposeTemps(backend, dWT);
    throw new QatError(`Conv2DBackpropFilter (wasm): internal shape mismatch, got [${s.join(', ')}] for a ${kh}x${kw} filter`);
  }
  // [Cin, KH, KW, Cout] -> [KH, KW, Cin, Cout].
  const dW = runKernel('Transpose', WASM, rawBackend, { x: dWT }, { perm: [1, 2, 0, 3] });
  disposeTemps(backend, dWT);
  return dW;
}

/**
 * The SIMD route (wasm_conv_grad_filter.ts) for NHWC float32 with Cout a multiple of 4; undefined when it does not
 * apply (the caller then takes the XNNPACK route).
 */
export function simdConv2DBackpropFilter(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | undefined {
  const { inputs, backend: rawBackend, attrs } = args;
  const x = inputs['x'];
  const dy = inputs['dy'];
  if (x === undefined || dy === undefined || x.dtype !== 'float32' || dy.dtype !== 'float32') return undefined;
  const { strides, pad, dataFormat, dimRoundingMode } = convAttrs(attrs);
  const filterShape = (attrs?.['filterShape'] ?? []) as number[];
  if (dataFormat === 'NCHW' || filterShape.length !== 4 || x.shape.length !== 4 || dy.shape.length !== 4) return undefined;
  const info = tf.backend_util.computeConv2DInfo(shape4(x, 'x'), filterShape as [number, number, number, number],
    strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const [n, h, w, cin] = shape4(x, 'x');
  const g: FilterGradShape = { cin, cout: info.outChannels, kh: info.filterHeight, kw: info.filterWidth,
    sh: info.strideHeight, sw: info.strideWidth, oh: info.outHeight, ow: info.outWidth };
  const dyShape = shape4(dy, 'dy');
  if (dyShape[0] !== n || dyShape[1] !== g.oh || dyShape[2] !== g.ow || dyShape[3] !== g.cout || n === 0) return undefined;
  if (!filterGradSupported(g)) return undefined;
  const backend = asWasmBackend(rawBackend);
  const { hp, wp } = paddedInput(g);
  const mc = g.kh * g.kw * cin * g.cout;
  const out = backend.makeOutput([g.kh, g.kw, cin, g.cout], 'float32');
  const chunk = chunkImages(hp * wp * cin, n);
  const xPad = backend.makeOutput([chunk * hp * wp * cin], 'float32');
  const acc = backend.makeOutput([3 * mc + 2], 'float32');
  try {
    // Views only after the allocations (malloc may grow the heap and detach older views).
    const accView = backend.typedArrayFromHeap(acc);
    accView.fill(0);
    const accPtr = (accView.byteOffset + 7) & ~7;
    const ok = filterGrad(rawBackend, g, n, chunk, h, w, info.padInfo.top, info.padInfo.left, {
      x: backend.typedArrayFromHeap(x).byteOffset, dy: backend.typedArrayFromHeap(dy).byteOffset,
      xPad: backend.typedArrayFromHeap(xPad).byteOffset, acc: accPtr,
    });
    if (!ok) {
      disposeTemps(backend, out);
      return undefined;
    }
    const outView = backend.typedArrayFromHeap(out);
    outView.set(new Float64Array(accView.buffer, accPtr, mc));
    return out;
  } finally {
    disposeTemps(backend, xPad, acc);
  }
}

/** Kernel function: Conv2DBackpropFilter on wasm (the SIMD loop when it applies, else the XNNPACK route). */
export function wasmConv2DBackpropFilter(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  return (SIMD_OFF ? undefined : simdConv2DBackpropFilter(args)) ?? xnnConv2DBackpropFilter(args);
}

/** Kernel config to register (there is no built-in wasm kernel to replace). */
export const wasmConv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: WASM,
  kernelFunc: wasmConv2DBackpropFilter as unknown as tf.KernelFunc,
};
