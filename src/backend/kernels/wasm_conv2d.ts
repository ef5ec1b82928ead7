/**
 * Forward Conv2D on wasm through the input-gradient SIMD loop (wasm_conv_grad_input.ts): with stride 1, the
 * convolution y[oh,ow,o] = Σ_{a,b,c} xq[oh+a, ow+b, c] · W[a,b,c,o] over a zero-padded x (xq, top/left pads of the
 * conv) is the same correlation that loop runs, with the roles of the channel counts swapped: the loop's input has
 * Cin channels and its output Cout. In the 'ci' tiling (Cout a multiple of 4) the loop reads W in its natural
 * [KH, KW, Cin, Cout] layout; the 'co' tiling (Cin a multiple of 4) takes Wf[a,o,b,c] = W[a,b,c,o].
 *
 * For the CNN's small channel counts this is ~2-4× faster than XNNPACK's conv (same float32 sums). Strides > 1,
 * dilations, NCHW and other dtypes go to the original kernel. Not registered by this file: wasm_kernels.ts would
 * add `{ kernelName: 'Conv2D', build: (original) => replaced(original, wrapConv2D) }`.
 */
import * as tf from '@tensorflow/tfjs';
import { asWasmBackend, convAttrs, disposeTemps, pair, shape4 } from './kernel_util.js';
import { inputGradLoop, inputGradMode, type InputGradShape } from './wasm_conv_grad_input.js';
import { chunkImages, padImages } from './wasm_conv_grad_simd.js';

/** The SIMD route for a stride-1, dilation-1 NHWC float32 Conv2D; undefined when it does not apply. */
export function simdConv2D(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | undefined {
  const { inputs, attrs, backend: rawBackend } = args;
  const x = inputs['x'];
  const filter = inputs['filter'];
  if (x === undefined || filter === undefined || x.dtype !== 'float32' || filter.dtype !== 'float32') return undefined;
  if (x.shape.length !== 4 || filter.shape.length !== 4) return undefined;
  const { strides, pad, dataFormat, dimRoundingMode } = convAttrs(attrs);
  const dilations = pair(attrs?.['dilations'] as number | number[] | undefined, 1);
  if (dataFormat === 'NCHW' || dilations[0] !== 1 || dilations[1] !== 1) return undefined;
  const xShape = shape4(x, 'x');
  const info = tf.backend_util.computeConv2DInfo(xShape, shape4(filter, 'filter'), strides, 1, pad, dimRoundingMode,
    false, 'channelsLast');
  if (info.strideHeight !== 1 || info.strideWidth !== 1) return undefined;
  const [n, h, w, cin] = xShape;
  const { outHeight: oh, outWidth: ow, outChannels: cout, filterHeight: kh, filterWidth: kw } = info;
  if (n === 0 || oh <= 0 || ow <= 0) return undefined;
  // The loop's view: input channels = Cin (its "cout"), output channels = Cout (its "cin").
  const g: InputGradShape = { cin: cout, cout: cin, kh, kw, h: oh, w: ow };
  const mode = inputGradMode(g);
  if (mode === undefined) return undefined;
  const loop = inputGradLoop(rawBackend, g, mode);
  if (loop === null) return undefined;
  const backend = asWasmBackend(rawBackend);
  const hq = oh + kh - 1;
  const wq = ow + kw - 1;
  const chunk = chunkImages(hq * wq * cin, n);
  const out = backend.makeOutput([n, oh, ow, cout], 'float32');
  const xq = backend.makeOutput([chunk * hq * wq * cin], 'float32');
  const wf = mode === 'co' ? backend.makeOutput([kh * kw * cin * cout], 'float32') : undefined;
  try {
    // Views only after the allocations (malloc may grow the heap and detach older views).
    const xView = backend.typedArrayFromHeap(x);
    const xqView = backend.typedArrayFromHeap(xq);
    const fView = backend.typedArrayFromHeap(filter);
    let wPtr = fView.byteOffset;
    if (wf !== undefined) {
      const wfView = backend.typedArrayFromHeap(wf);
      for (let a = 0; a < kh; a++) {
        for (let b = 0; b < kw; b++) {
          for (let c = 0; c < cin; c++) {
            for (let o = 0; o < cout; o++) wfView[((a * cout + o) * kw + b) * cin + c] = fView[((a * kw + b) * cin + c) * cout + o]!;
          }
        }
      }
      wPtr = wfView.byteOffset;
    }
    const outPtr = backend.typedArrayFromHeap(out).byteOffset;
    const xImg = h * w * cin * 4;
    const yImg = oh * ow * cout * 4;
    for (let b = 0; b < n; b += chunk) {
      const k = Math.min(chunk, n - b);
      if (!padImages(rawBackend, xView.byteOffset + b * xImg, { h, w, c: cin }, xqView.byteOffset, { h: hq, w: wq, c: cin },
        k, info.padInfo.top, info.padInfo.left)) xqView.fill(0, 0, k * hq * wq * cin);
      loop.dx(xqView.byteOffset, wPtr, outPtr + b * yImg, k);
    }
    return out;
  } finally {
    disposeTemps(backend, xq, wf);
  }
}

/**
 * Wrap the built-in wasm Conv2D: stride-1 NHWC float32 calls run the SIMD loop; the rest go to `original`.
 * @param original the kernelFunc registered by tfjs-backend-wasm.
 */
export function wrapConv2D(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => simdConv2D(args) ?? original(args);
}
