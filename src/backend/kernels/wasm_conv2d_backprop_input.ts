/**
 * Faster Conv2DBackpropInput on wasm for stride 1 (the built-in kernel is a naive loop).
 *
 * With stride 1, dx = conv2d(dy, W', pads [KH−1−pt, …]) where W'[a,b,co,ci] = W[KH−1−a, KW−1−b, ci, co]
 * (spatially flipped, in/out channels swapped): one XNNPACK conv. Other cases (stride > 1, NCHW, negative
 * derived pads) go to the original kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { QatError } from '../../errors.js';
import { asKernelBackend, convAttrs, disposeTemps, runKernel, shape4 } from './kernel_util.js';

const WASM = 'wasm';

/**
 * Wrap the built-in wasm Conv2DBackpropInput: stride-1 NHWC calls become one conv2d; the rest go to `original`.
 * @param original the kernelFunc registered by tfjs-backend-wasm.
 */
export function wrapConv2DBackpropInput(original: tf.KernelFunc): tf.KernelFunc {
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
