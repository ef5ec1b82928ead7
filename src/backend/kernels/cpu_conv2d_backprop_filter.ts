/**
 * Conv2DBackpropFilter for the cpu backend as a plain typed-array loop. tfjs' built-in cpu kernel reads every
 * element through TensorBuffer.get and takes seconds per batch for a small CNN; this loop is an order of
 * magnitude faster. NHWC only (NCHW goes to the original kernel).
 */
import * as tf from '@tensorflow/tfjs';
import { QatError } from '../../errors.js';
import { asCpuBackend, convAttrs, shape4 } from './kernel_util.js';

/** Numeric view of a cpu tensor's values. */
function valuesOf(v: unknown, what: string): ArrayLike<number> {
  if (v instanceof Float32Array || v instanceof Int32Array || v instanceof Uint8Array || v instanceof Float64Array) {
    return v;
  }
  throw new QatError(`Conv2DBackpropFilter (cpu): ${what} is not a numeric tensor`);
}

/**
 * Filter gradient dW[kh,kw,ci,co] = Σ_{n,oh,ow} x[n, oh·sh+kh−pt, ow·sw+kw−pl, ci] · dy[n,oh,ow,co] (NHWC, dilation 1),
 * accumulated in float64.
 */
export function conv2DBackpropFilterLoop(
  x: ArrayLike<number>, xShape: [number, number, number, number],
  dy: ArrayLike<number>, dyShape: [number, number, number, number],
  kh: number, kw: number, sh: number, sw: number, padTop: number, padLeft: number,
): Float32Array {
  const [n, h, w, cin] = xShape;
  const [, oh, ow, cout] = dyShape;
  const acc = new Float64Array(kh * kw * cin * cout);
  const xRow = w * cin;
  const xImg = h * xRow;
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < oh; r++) {
      for (let c = 0; c < ow; c++) {
        const dyOff = ((b * oh + r) * ow + c) * cout;
        for (let i = 0; i < kh; i++) {
          const ih = r * sh + i - padTop;
          if (ih < 0 || ih >= h) continue;
          for (let j = 0; j < kw; j++) {
            const iw = c * sw + j - padLeft;
            if (iw < 0 || iw >= w) continue;
            const xOff = b * xImg + ih * xRow + iw * cin;
            const wOff = (i * kw + j) * cin * cout;
            for (let ci = 0; ci < cin; ci++) {
              const xv = x[xOff + ci]!;
              if (xv === 0) continue;
              const base = wOff + ci * cout;
              for (let co = 0; co < cout; co++) acc[base + co]! += xv * dy[dyOff + co]!;
            }
          }
        }
      }
    }
  }
  return Float32Array.from(acc);
}

/**
 * Wrap the built-in cpu Conv2DBackpropFilter: NHWC calls run the typed-array loop; others go to `original`.
 * @param original the kernelFunc registered by tfjs-backend-cpu.
 */
export function wrapCpuConv2DBackpropFilter(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, attrs } = args;
    const x = inputs['x'];
    const dy = inputs['dy'];
    if (x === undefined || dy === undefined) throw new QatError('Conv2DBackpropFilter (cpu): inputs x and dy are required');
    const { strides, pad, dataFormat, dimRoundingMode } = convAttrs(attrs);
    const filterShape = (attrs?.['filterShape'] ?? []) as number[];
    if (dataFormat === 'NCHW' || filterShape.length !== 4 || x.dtype !== 'float32' || dy.dtype !== 'float32') {
      return original(args);
    }
    const backend = asCpuBackend(args.backend);
    const xShape = shape4(x, 'x');
    const info = tf.backend_util.computeConv2DInfo(xShape, filterShape as [number, number, number, number], strides, 1,
      pad, dimRoundingMode, false, 'channelsLast');
    const values = conv2DBackpropFilterLoop(
      valuesOf(backend.readSync(x.dataId), 'x'), xShape, valuesOf(backend.readSync(dy.dataId), 'dy'), shape4(dy, 'dy'),
      info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left);
    return backend.makeTensorInfo([...filterShape], 'float32', values);
  };
}
