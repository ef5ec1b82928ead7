// The wasm SIMD convolution gradients (wasm_conv_grad_filter.ts, wasm_conv_grad_input.ts) against float64 loops.
import { expect } from 'chai';
import { lcgValues as values, relErrStrict as relErr } from '../helpers/backends.js';
import * as tf from '@tensorflow/tfjs';
import { useBackend, type BackendName } from '../../src/backend/use_backend.js';
import { simdConv2DBackpropFilter } from '../../src/backend/kernels/wasm_conv2d_backprop_filter.js';
import { simdConv2DBackpropInput } from '../../src/backend/kernels/wasm_conv2d_backprop_input.js';
import { simdConv2D } from '../../src/backend/kernels/wasm_conv2d.js';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | tf.backend_util.ExplicitPadding;
interface Case { x: Shape4; w: Shape4; strides: [number, number]; pad: Pad }

const info = (c: Case): tf.backend_util.Conv2DInfo =>
  tf.backend_util.computeConv2DInfo(c.x, c.w, c.strides, 1, c.pad, undefined, false, 'channelsLast');

/**
 * Visit every (output pixel, kernel tap) pair of the conv with its in-bounds input pixel: `visit(xOff, wOff, outOff)`
 * with xOff = the input pixel's offset (channel 0), wOff = the tap's weight offset (cin 0, cout 0), outOff = the
 * output pixel's offset (cout 0).
 */
function convTaps(c: Case, visit: (xOff: number, wOff: number, outOff: number) => void): void {
  const ci = info(c);
  const [n, h, wd, cin] = c.x;
  const [kh, kw, , cout] = c.w;
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < ci.outHeight; r++) {
      for (let q = 0; q < ci.outWidth; q++) {
        const outOff = ((b * ci.outHeight + r) * ci.outWidth + q) * cout;
        for (let i = 0; i < kh; i++) {
          const ih = r * ci.strideHeight + i - ci.padInfo.top;
          if (ih < 0 || ih >= h) continue;
          for (let j = 0; j < kw; j++) {
            const iw = q * ci.strideWidth + j - ci.padInfo.left;
            if (iw >= 0 && iw < wd) visit(((b * h + ih) * wd + iw) * cin, (i * kw + j) * cin * cout, outOff);
          }
        }
      }
    }
  }
}

/** Float64 dW and dx of sum(conv2d(x, w) · dy) by direct loops over (n, oh, ow, kh, kw). */
function reference(c: Case, x: Float32Array, w: Float32Array, dy: Float32Array): [Float64Array, Float64Array] {
  const [n, h, wd, cin] = c.x;
  const [kh, kw, , cout] = c.w;
  const dW = new Float64Array(kh * kw * cin * cout);
  const dx = new Float64Array(n * h * wd * cin);
  convTaps(c, (xOff, wOff, dyOff) => {
    for (let k = 0; k < cin; k++) {
      for (let o = 0; o < cout; o++) {
        dW[wOff + k * cout + o]! += x[xOff + k]! * dy[dyOff + o]!;
        dx[xOff + k]! += w[wOff + k * cout + o]! * dy[dyOff + o]!;
      }
    }
  });
  return [dW, dx];
}

/** Float64 forward conv y[n,oh,ow,o] = Σ x[n, oh·sh+i−pt, ow·sw+j−pl, c] · w[i,j,c,o]. */
function forwardReference(c: Case, x: Float32Array, w: Float32Array): Float64Array {
  const ci = info(c);
  const [n, , , cin] = c.x;
  const [, , , cout] = c.w;
  const y = new Float64Array(n * ci.outHeight * ci.outWidth * cout);
  convTaps(c, (xOff, wOff, yOff) => {
    for (let k = 0; k < cin; k++) {
      const xv = x[xOff + k]!;
      for (let o = 0; o < cout; o++) y[yOff + o]! += xv * w[wOff + k * cout + o]!;
    }
  });
  return y;
}

const CASES: Case[] = [
  { x: [3, 28, 28, 1], w: [3, 3, 1, 8], strides: [1, 1], pad: 'same' }, // the CNN's conv1 (dx: 'co' tiling)
  { x: [3, 14, 14, 8], w: [3, 3, 8, 16], strides: [1, 1], pad: 'same' }, // the CNN's conv2 (dx: 'ci' tiling)
  { x: [2, 9, 7, 3], w: [3, 3, 3, 4], strides: [2, 2], pad: 'same' },
  { x: [2, 10, 11, 4], w: [2, 3, 4, 8], strides: [2, 2], pad: 'valid' },
  { x: [2, 7, 9, 5], w: [3, 2, 5, 12], strides: [1, 1], pad: [[0, 0], [2, 0], [1, 1], [0, 0]] },
  { x: [2, 8, 9, 4], w: [3, 3, 4, 4], strides: [2, 1], pad: 'same' },
  { x: [2, 11, 10, 2], w: [3, 3, 2, 8], strides: [3, 3], pad: 'valid' },
  { x: [2, 6, 6, 4], w: [3, 3, 4, 20], strides: [1, 1], pad: 'same' },
  { x: [2, 5, 5, 8], w: [1, 1, 8, 4], strides: [1, 1], pad: 'valid' },
  { x: [2, 6, 5, 4], w: [2, 2, 4, 4], strides: [1, 1], pad: [[0, 0], [3, 3], [0, 4], [0, 0]] }, // pads > K−1 (cropped)
  { x: [20, 13, 6, 1], w: [3, 3, 1, 8], strides: [1, 1], pad: 'same' }, // several padding chunks with a tail
  { x: [1, 6, 7, 32], w: [3, 3, 32, 24], strides: [1, 1], pad: 'same' }, // 2 Cin chunks (dx), 4+2 column vectors (dW)
  { x: [2, 5, 5, 6], w: [3, 3, 6, 8], strides: [1, 1], pad: 'same' }, // dx 'co' tiling with 4+2 channels
];

const label = (c: Case): string =>
  `x[${c.x.join(',')}] w[${c.w.join(',')}] s${c.strides.join('x')} ${typeof c.pad === 'string' ? c.pad : JSON.stringify(c.pad)}`;

interface Backendish { readSync(id: tf.DataId): unknown; disposeData(id: tf.DataId): boolean; numDataIds(): number }

/** Run a kernel function directly; returns its values (or undefined when it declined) and frees the output. */
function direct(fn: (a: Parameters<tf.KernelFunc>[0]) => tf.TensorInfo | undefined, inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap): Float32Array | undefined {
  const backend = tf.backend() as unknown as Backendish;
  const out = fn({ inputs, backend: backend as unknown as object, attrs });
  if (out === undefined) return undefined;
  const v = (backend.readSync(out.dataId) as Float32Array).slice();
  backend.disposeData(out.dataId);
  return v;
}

describe('backend/conv_grad_simd: wasm SIMD conv gradients vs float64 loops', function () {
  this.timeout(60000);
  before(async function () {
    await useBackend('wasm', { quiet: true });
  });
  after(async function () {
    await useBackend((process.env['TFJS_QAT_BACKEND'] ?? 'auto') as BackendName, { quiet: true });
  });

  for (const c of CASES) {
    it(`${label(c)}: dW and dx within 1e-6 (max-relative), no leaked heap buffers`, function () {
      const xv = values(c.x.reduce((a, b) => a * b), 11);
      const wv = values(c.w.reduce((a, b) => a * b), 12);
      const ci = info(c);
      const dyShape: Shape4 = [c.x[0], ci.outHeight, ci.outWidth, c.w[3]];
      const dyv = values(dyShape.reduce((a, b) => a * b), 13);
      const [refW, refX] = reference(c, xv, wv, dyv);
      const x = tf.tensor4d(xv, c.x);
      const w = tf.tensor4d(wv, c.w);
      const dy = tf.tensor4d(dyv, dyShape);
      const backend = tf.backend() as unknown as Backendish;
      const ids = backend.numDataIds();
      const common = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
      const dW = direct(simdConv2DBackpropFilter, { x, dy }, { ...common, filterShape: c.w } as unknown as tf.NamedAttrMap);
      const dx = direct(simdConv2DBackpropInput, { dy, filter: w }, { ...common, inputShape: c.x } as unknown as tf.NamedAttrMap);
      expect(backend.numDataIds(), 'heap buffers').to.equal(ids);
      tf.dispose([x, w, dy]);
      expect(dW, 'dW took the SIMD route').to.not.equal(undefined);
      expect(dx, 'dx took the SIMD route').to.not.equal(undefined);
      expect(relErr(dW!, refW), 'dW').to.be.at.most(1e-6);
      expect(relErr(dx!, refX), 'dx').to.be.at.most(1e-6);
    });
  }

  it('declines what it does not handle: Cout not a multiple of 4 (dW), neither channel count (dx), NCHW', function () {
    const x = tf.zeros([1, 5, 5, 3]);
    const dy3 = tf.zeros([1, 5, 5, 3]);
    const w3 = tf.zeros([3, 3, 3, 3]);
    const common = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined };
    expect(direct(simdConv2DBackpropFilter, { x, dy: dy3 }, { ...common, filterShape: [3, 3, 3, 3] } as unknown as tf.NamedAttrMap)).to.equal(undefined);
    expect(direct(simdConv2DBackpropInput, { dy: dy3, filter: w3 }, { ...common, inputShape: [1, 5, 5, 3] } as unknown as tf.NamedAttrMap)).to.equal(undefined);
    const nchw = { ...common, dataFormat: 'NCHW' };
    expect(direct(simdConv2DBackpropFilter, { x, dy: dy3 }, { ...nchw, filterShape: [3, 3, 5, 4] } as unknown as tf.NamedAttrMap)).to.equal(undefined);
    tf.dispose([x, dy3, w3]);
  });

  it('tf.grads of a conv layer on wasm (registered kernels) match the float64 loops; no tensor leak', async function () {
    const c: Case = { x: [2, 14, 14, 8], w: [3, 3, 8, 16], strides: [1, 1], pad: 'same' };
    const xv = values(c.x.reduce((a, b) => a * b), 21);
    const wv = values(c.w.reduce((a, b) => a * b), 22);
    const dyv = values(2 * 14 * 14 * 16, 23);
    const [refW, refX] = reference(c, xv, wv, dyv);
    const before = tf.memory().numTensors;
    const [gx, gw] = tf.tidy(() => {
      const r = tf.tensor4d(dyv, [2, 14, 14, 16]);
      const f = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same').mul(r).sum();
      return tf.grads(f)([tf.tensor4d(xv, c.x), tf.tensor4d(wv, c.w)]);
    });
    const dx = await gx!.data();
    const dW = await gw!.data();
    tf.dispose([gx!, gw!]);
    expect(tf.memory().numTensors).to.equal(before);
    expect(relErr(dW, refW)).to.be.at.most(1e-6);
    expect(relErr(dx, refX)).to.be.at.most(1e-6);
  });

  const FORWARD: Case[] = [
    { x: [3, 28, 28, 1], w: [3, 3, 1, 8], strides: [1, 1], pad: 'same' }, // 'ci' tiling, W in place
    { x: [3, 14, 14, 8], w: [3, 3, 8, 16], strides: [1, 1], pad: 'same' },
    { x: [2, 9, 7, 8], w: [2, 3, 8, 3], strides: [1, 1], pad: 'valid' }, // 'co' tiling (Cout 3), rearranged W
    { x: [2, 7, 9, 5], w: [3, 2, 5, 12], strides: [1, 1], pad: [[0, 0], [2, 0], [1, 1], [0, 0]] },
    { x: [20, 6, 5, 4], w: [2, 2, 4, 4], strides: [1, 1], pad: [[0, 0], [3, 3], [0, 4], [0, 0]] },
  ];
  for (const c of FORWARD) {
    it(`forward ${label(c)}: within 1e-6 of a float64 loop, no leaked heap buffers`, function () {
      const xv = values(c.x.reduce((a, b) => a * b), 31);
      const wv = values(c.w.reduce((a, b) => a * b), 32);
      const ref = forwardReference(c, xv, wv);
      const x = tf.tensor4d(xv, c.x);
      const w = tf.tensor4d(wv, c.w);
      const backend = tf.backend() as unknown as Backendish;
      const ids = backend.numDataIds();
      const y = direct(simdConv2D, { x, filter: w },
        { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined } as unknown as tf.NamedAttrMap);
      expect(backend.numDataIds(), 'heap buffers').to.equal(ids);
      tf.dispose([x, w]);
      expect(y, 'took the SIMD route').to.not.equal(undefined);
      expect(relErr(y!, ref)).to.be.at.most(1e-6);
    });
  }

  it('forward: declines strides > 1 and dilations > 1', function () {
    const x = tf.zeros([1, 6, 6, 4]);
    const w = tf.zeros([3, 3, 4, 4]);
    const attrs = (strides: number[], dilations: number[]): tf.NamedAttrMap =>
      ({ strides, pad: 'same', dataFormat: 'NHWC', dilations, dimRoundingMode: undefined }) as unknown as tf.NamedAttrMap;
    expect(direct(simdConv2D, { x, filter: w }, attrs([2, 2], [1, 1]))).to.equal(undefined);
    expect(direct(simdConv2D, { x, filter: w }, attrs([1, 1], [2, 2]))).to.equal(undefined);
    tf.dispose([x, w]);
  });
});
