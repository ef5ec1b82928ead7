// Parity of tfjs-qat's kernels (src/backend/kernels) with tfjs' ORIGINAL cpu kernels, through tf.grads.
import { expect } from 'chai';
import { lcgValues as values, relErrStrict as relErr } from '../helpers/backends.js';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../src/backend/use_backend.js';
import {
  activeExtraKernels, registerExtraKernels, unregisterExtraKernels,
} from '../../src/backend/kernels/register.js';
import { conv2DBackpropFilterLoop } from '../../src/backend/kernels/cpu_conv2d_backprop_filter.js';

type Pad = 'same' | 'valid' | tf.backend_util.ExplicitPadding;
interface ConvCase { x: [number, number, number, number]; w: [number, number, number, number]; stride: number; pad: Pad }

const CONV_CASES: ConvCase[] = [
  { x: [2, 7, 7, 1], w: [3, 3, 1, 2], stride: 1, pad: 'same' },
  { x: [2, 7, 7, 1], w: [3, 3, 1, 2], stride: 1, pad: 'valid' },
  { x: [3, 8, 6, 2], w: [3, 3, 2, 4], stride: 2, pad: 'same' },
  { x: [3, 9, 7, 2], w: [3, 3, 2, 3], stride: 2, pad: 'valid' },
  { x: [4, 6, 6, 3], w: [2, 2, 3, 4], stride: 1, pad: 'same' },
  { x: [2, 7, 5, 3], w: [2, 2, 3, 2], stride: 2, pad: 'valid' },
  { x: [2, 6, 6, 3], w: [2, 2, 3, 4], stride: 2, pad: 'same' },
  { x: [2, 9, 8, 2], w: [3, 3, 2, 2], stride: 3, pad: 'valid' },
  { x: [2, 6, 7, 2], w: [3, 2, 2, 3], stride: 1, pad: [[0, 0], [2, 0], [1, 1], [0, 0]] },
];

const label = (c: ConvCase): string =>
  `x[${c.x.join(',')}] w[${c.w.join(',')}] s${c.stride} ${typeof c.pad === 'string' ? c.pad : 'explicit'}`;

/** [dx, dw] of sum(conv2d(x, w)·r) on the active backend. */
async function convGrads(c: ConvCase): Promise<[Float32Array, Float32Array]> {
  const [dx, dw] = tf.tidy(() => {
    const x = tf.tensor4d(values(c.x.reduce((a, b) => a * b), 1), c.x);
    const w = tf.tensor4d(values(c.w.reduce((a, b) => a * b), 2), c.w);
    const f = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => {
      const y = tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad);
      return y.mul(tf.tensor(values(y.size, 3), y.shape)).sum();
    };
    return tf.grads(f)([x, w]);
  });
  const out: [Float32Array, Float32Array] = [await dx!.data() as Float32Array, await dw!.data() as Float32Array];
  tf.dispose([dx!, dw!]);
  return out;
}

interface MatCase { a: number[]; b: number[]; tA: boolean; tB: boolean }
const MAT_CASES: MatCase[] = [];
for (const tA of [false, true]) {
  for (const tB of [false, true]) {
    MAT_CASES.push({ a: tA ? [5, 3] : [3, 5], b: tB ? [4, 5] : [5, 4], tA, tB });
    MAT_CASES.push({ a: tA ? [2, 6, 3] : [2, 3, 6], b: tB ? [2, 4, 6] : [2, 6, 4], tA, tB });
  }
}

/** [out, da, db] of matMul(a, b, tA, tB) weighted by r, on the active backend. */
async function matGrads(c: MatCase): Promise<Float32Array[]> {
  const outs = tf.tidy(() => {
    const a = tf.tensor(values(c.a.reduce((p, q) => p * q), 4), c.a);
    const b = tf.tensor(values(c.b.reduce((p, q) => p * q), 5), c.b);
    const y = tf.matMul(a, b, c.tA, c.tB);
    const r = tf.tensor(values(y.size, 6), y.shape);
    const [da, db] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.matMul(p, q, c.tA, c.tB).mul(r).sum())([a, b]);
    return [y, da!, db!];
  });
  const res = await Promise.all(outs.map(async (t) => await t.data() as Float32Array));
  tf.dispose(outs);
  return res;
}

interface PoolCase { x: [number, number, number, number]; size: number; stride: number; pad: 'same' | 'valid' }
const POOL_CASES: PoolCase[] = [
  { x: [2, 8, 8, 3], size: 2, stride: 2, pad: 'valid' },
  { x: [3, 7, 9, 2], size: 2, stride: 2, pad: 'valid' }, // trailing row/col not covered: dx must be 0 there
  { x: [2, 7, 7, 2], size: 3, stride: 2, pad: 'valid' }, // overlapping windows
  { x: [2, 6, 5, 1], size: 2, stride: 1, pad: 'valid' },
  { x: [2, 7, 7, 2], size: 2, stride: 2, pad: 'same' }, // padded: the original kernel
];

/** dx of sum(avgPool(x)·r) on the active backend. */
async function poolGrad(c: PoolCase): Promise<Float32Array> {
  const dx = tf.tidy(() => {
    const x = tf.tensor4d(values(c.x.reduce((a, b) => a * b), 9), c.x);
    return tf.grad((a: tf.Tensor) => {
      const y = tf.avgPool(a as tf.Tensor4D, c.size, c.stride, c.pad);
      return y.mul(tf.tensor(values(y.size, 10), y.shape)).sum();
    })(x);
  });
  const out = await dx.data() as Float32Array;
  dx.dispose();
  return out;
}

describe('backend/kernels: tfjs-qat kernels match tfjs cpu kernels', function () {
  const convRef: Array<[Float32Array, Float32Array]> = [];
  const matRef: Float32Array[][] = [];
  const poolRef: Float32Array[] = [];

  before(async function () {
    const off = process.env['TFJS_QAT_NO_KERNELS'];
    if (off !== undefined && off !== '' && off !== '0') this.skip(); // kernels disabled on purpose (benchmarks)
    await useBackend('cpu', { quiet: true });
    unregisterExtraKernels('cpu'); // references from tfjs' own cpu kernels
    for (const c of CONV_CASES) convRef.push(await convGrads(c));
    for (const c of MAT_CASES) matRef.push(await matGrads(c));
    for (const c of POOL_CASES) poolRef.push(await poolGrad(c));
    registerExtraKernels('cpu');
  });

  after(async function () {
    await useBackend('auto', { quiet: true });
  });

  it('registers the expected kernels and is idempotent', async function () {
    await useBackend('wasm', { quiet: true });
    registerExtraKernels('wasm');
    registerExtraKernels('wasm');
    expect(activeExtraKernels('wasm').sort()).to.deep.equal(
      ['Add', 'AvgPool', 'AvgPoolGrad', 'BatchMatMul', 'Cast', 'Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'Equal', 'Greater',
        'GreaterEqual', 'Identity', 'Less', 'LessEqual', 'LogicalAnd', 'LogicalOr', 'NotEqual', 'QatReluGrad', 'Sum', '_FusedMatMul']);
    expect(activeExtraKernels('cpu').sort()).to.deep.equal(['Conv2DBackpropFilter', 'QatReluGrad']);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).to.not.equal(undefined);
  });

  it('the JS-loop filter gradient equals a direct sum on a hand-checked case', function () {
    // x 1x2x2x1 = [1,2,3,4], dy 1x1x1x1 = [10], 2x2 valid: dW = 10·x.
    const dw = conv2DBackpropFilterLoop([1, 2, 3, 4], [1, 2, 2, 1], [10], [1, 1, 1, 1], 2, 2, 1, 1, 0, 0);
    expect(Array.from(dw)).to.deep.equal([10, 20, 30, 40]);
  });

  for (const backend of ['wasm', 'cpu'] as const) {
    it(`conv2d dx and dW on ${backend} equal tfjs' cpu kernels (rel. err < 1e-5)`, async function () {
      await useBackend(backend, { quiet: true });
      const before = tf.memory().numTensors;
      for (let i = 0; i < CONV_CASES.length; i++) {
        const c = CONV_CASES[i]!;
        const [dx, dw] = await convGrads(c);
        const ref = convRef[i]!;
        expect(relErr(dx, ref[0]), `dx ${label(c)}`).to.be.below(1e-5);
        expect(relErr(dw, ref[1]), `dW ${label(c)}`).to.be.below(1e-5);
      }
      expect(tf.memory().numTensors).to.equal(before);
    });
  }

  it('matMul (4 transpose combinations, 2-D and batched 3-D) and its gradients on wasm equal cpu', async function () {
    await useBackend('wasm', { quiet: true });
    const before = tf.memory().numTensors;
    for (let i = 0; i < MAT_CASES.length; i++) {
      const c = MAT_CASES[i]!;
      const got = await matGrads(c);
      const what = `a[${c.a.join(',')}] b[${c.b.join(',')}] tA=${c.tA} tB=${c.tB}`;
      for (let k = 0; k < 3; k++) expect(relErr(got[k]!, matRef[i]![k]!), `${['y', 'da', 'db'][k]} ${what}`).to.be.below(1e-5);
    }
    expect(tf.memory().numTensors).to.equal(before);
  });

  it('avgPool gradient on wasm equals cpu (disjoint, overlapping, uncovered rows, padded fallback)', async function () {
    await useBackend('wasm', { quiet: true });
    const before = tf.memory().numTensors;
    for (let i = 0; i < POOL_CASES.length; i++) {
      const c = POOL_CASES[i]!;
      const got = await poolGrad(c);
      expect(relErr(got, poolRef[i]!), `x[${c.x.join(',')}] pool ${c.size}/${c.stride} ${c.pad}`).to.be.below(1e-6);
    }
    expect(tf.memory().numTensors).to.equal(before);
  });

  it('comparisons with a size-1 operand on wasm: same values and broadcast shape as cpu; tf.max gradient', async function () {
    const pairs: Array<[number[], number[]]> = [[[3, 4], [1, 1]], [[1, 1], [3, 4]], [[5], [1, 1]], [[1, 1, 1], [2, 3]],
      [[], [3]], [[2, 3], [2, 3]], [[2, 1], [1, 3]]];
    const ops = [tf.equal, tf.notEqual, tf.greater, tf.greaterEqual, tf.less, tf.lessEqual];
    const compute = (): Array<{ shape: number[]; v: number[] }> => {
      const res: Array<{ shape: number[]; v: number[] }> = [];
      for (const [sa, sb] of pairs) {
        // Values on a coarse grid so that ties (equal) happen.
        const a = tf.tensor(Array.from(values(Math.max(1, sa.reduce((p, q) => p * q, 1)), 11), (v) => Math.round(v * 4)), sa);
        const b = tf.tensor(Array.from(values(Math.max(1, sb.reduce((p, q) => p * q, 1)), 12), (v) => Math.round(v * 4)), sb);
        for (const op of ops) {
          const y = op(a, b);
          res.push({ shape: y.shape, v: Array.from(y.dataSync()) });
          y.dispose();
        }
        const ba = tf.greater(a, 0);
        const bb = tf.greater(b, 0);
        for (const op of [tf.logicalAnd, tf.logicalOr]) {
          const y = op(ba, bb);
          res.push({ shape: y.shape, v: Array.from(y.dataSync()) });
          y.dispose();
        }
        tf.dispose([a, b, ba, bb]);
      }
      const w = tf.tensor2d([[1, 5], [5, 2]]);
      const g = tf.grad((x: tf.Tensor) => tf.max(x))(w); // ties: tfjs' max gradient goes to every maximum
      res.push({ shape: g.shape, v: Array.from(g.dataSync()) });
      tf.dispose([w, g]);
      return res;
    };
    await useBackend('cpu', { quiet: true });
    const ref = compute();
    await useBackend('wasm', { quiet: true });
    const before = tf.memory().numTensors;
    const got = compute();
    expect(tf.memory().numTensors).to.equal(before);
    expect(got).to.deep.equal(ref);
    expect(got[got.length - 1]!.v).to.deep.equal([0, 1, 1, 0]);
    expect(got[2 * 8]!.shape).to.deep.equal([1, 5]); // [5] vs [1,1]
  });

  it('a dense layer (fused matmul) trains on wasm to the same loss as on cpu', async function () {
    const run = async (): Promise<number[]> => {
      const model = tf.sequential({ layers: [
        tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 3, padding: 'same', activation: 'relu',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      ] });
      const optimizer = tf.train.sgd(0.1);
      model.compile({ optimizer, loss: 'meanSquaredError' });
      const x = tf.tensor4d(values(4 * 72, 7), [4, 6, 6, 2]);
      const y = tf.tensor2d(values(8, 8), [4, 2]);
      const h = await model.fit(x, y, { epochs: 3, batchSize: 4, shuffle: false, verbose: 0 });
      tf.dispose([x, y]);
      model.dispose();
      optimizer.dispose();
      return h.history['loss']!.map(Number);
    };
    await useBackend('cpu', { quiet: true });
    const cpuLoss = await run();
    await useBackend('wasm', { quiet: true });
    const before = tf.memory().numTensors;
    const wasmLoss = await run();
    expect(tf.memory().numTensors).to.equal(before);
    expect(cpuLoss[2]!).to.be.below(cpuLoss[0]!);
    for (let e = 0; e < 3; e++) expect(Math.abs(wasmLoss[e]! - cpuLoss[e]!) / cpuLoss[e]!).to.be.below(1e-4);
  });

  it('unregisterExtraKernels restores the originals and registerExtraKernels re-applies', async function () {
    await useBackend('wasm', { quiet: true });
    unregisterExtraKernels('wasm');
    expect(activeExtraKernels('wasm')).to.deep.equal([]);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).to.equal(undefined);
    registerExtraKernels('wasm');
    expect(activeExtraKernels('wasm')).to.have.length(20);
  });
});
