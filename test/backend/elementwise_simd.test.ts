// tfjs-qat's wasm element-wise, copy and reduction kernels (Identity, bias Add, column Sum, fused Relu gradient,
// AvgPool, AvgPoolGrad) against tfjs' original kernels and float64 references.
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../src/backend/use_backend.js';
import { registerExtraKernels, unregisterExtraKernels } from '../../src/backend/kernels/register.js';
import { cpuReluGradConfig, RELU_GRAD_KERNEL } from '../../src/backend/kernels/wasm_relu_grad.js';
import { isBiasOf } from '../../src/backend/kernels/wasm_bias_add.js';
import { isLeadingAxes } from '../../src/backend/kernels/wasm_reduce.js';

/** Deterministic values in [lo, hi) (LCG). */
function values(n: number, seed: number, lo = -0.5, hi = 0.5): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + (hi - lo) * (s / 4294967296);
  }
  return out;
}

const sizeOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const rand = (shape: number[], seed: number, lo?: number, hi?: number): tf.Tensor => tf.tensor(values(sizeOf(shape), seed, lo, hi), shape);

/** Same float32 values, NaN equal to NaN, +0 distinct from -0. */
function expectSameBits(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, what).to.equal(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) expect.fail(`${what}: element ${i} is ${got[i]}, expected ${want[i]}`);
  }
}

const MINE = ['Identity', 'Cast', 'Add', 'Sum', 'AvgPool', 'AvgPoolGrad', RELU_GRAD_KERNEL];

/** Run `fn` with tfjs' original wasm kernels in place of ours (the other tfjs-qat kernels stay). */
function withOriginals<T>(fn: () => T): T {
  const saved = process.env['TFJS_QAT_NO_KERNELS'];
  unregisterExtraKernels('wasm');
  process.env['TFJS_QAT_NO_KERNELS'] = MINE.join(',');
  registerExtraKernels('wasm');
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env['TFJS_QAT_NO_KERNELS'];
    else process.env['TFJS_QAT_NO_KERNELS'] = saved;
    unregisterExtraKernels('wasm');
    registerExtraKernels('wasm');
  }
}

/** Values of `fn()` (a tensor) computed inside tidy, as a Float32Array copy. */
function run(fn: () => tf.Tensor): Float32Array {
  const t = tf.tidy(fn);
  const v = t.dataSync().slice() as Float32Array;
  t.dispose();
  return v;
}

describe('backend/elementwise_simd: wasm Identity, bias Add, Sum, Relu gradient, AvgPool(Grad)', function () {
  before(async function () {
    const off = process.env['TFJS_QAT_NO_KERNELS'];
    if (off !== undefined && off !== '' && off !== '0') this.skip(); // kernels disabled on purpose (benchmarks)
    await useBackend('wasm', { quiet: true });
  });

  after(async function () {
    await useBackend((process.env['TFJS_QAT_BACKEND'] ?? 'auto') as 'auto', { quiet: true });
  });

  describe('Identity shares the data', function () {
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      it(`${dtype}: the clone keeps its values after the source is disposed, memory returns to baseline`, function () {
        const backend = tf.backend() as unknown as { numDataIds(): number };
        const m0 = tf.memory();
        const ids0 = backend.numDataIds();
        const src = tf.tensor([1, 0, 3, 0, 5, 6, 7], [7], dtype);
        const want = Array.from(src.dataSync());
        const c1 = tf.clone(src);
        const c2 = tf.clone(c1);
        expect(c1.dataId).to.equal(src.dataId); // shared, not copied
        expect(backend.numDataIds() - ids0).to.equal(1); // one heap buffer for the three tensors
        src.dispose();
        expect(Array.from(c1.dataSync())).to.deep.equal(want);
        c1.dispose();
        expect(Array.from(c2.dataSync())).to.deep.equal(want);
        expect(c2.dtype).to.equal(dtype);
        c2.dispose();
        expect(tf.memory().numTensors).to.equal(m0.numTensors);
        expect(tf.memory().numBytes).to.equal(m0.numBytes);
        expect(backend.numDataIds()).to.equal(ids0); // the heap buffer was freed
      });
    }

    it('Cast to the same dtype shares; other casts convert', function () {
      const backend = tf.backend() as unknown as { numDataIds(): number };
      const m0 = tf.memory().numTensors;
      const ids0 = backend.numDataIds();
      const x = tf.tensor([1.5, -2.5, 0, 3]);
      const same = tf.cast(x, 'float32');
      expect(same.dataId).to.equal(x.dataId);
      x.dispose();
      expect(Array.from(same.dataSync())).to.deep.equal([1.5, -2.5, 0, 3]);
      const i = tf.cast(same, 'int32');
      expect(i.dataId).to.not.equal(same.dataId);
      expect(Array.from(i.dataSync())).to.deep.equal([1, -2, 0, 3]);
      const bSrc = tf.tensor([1, 0, 1], [3], 'bool');
      const b = tf.cast(bSrc, 'bool');
      expect(b.dataId).to.equal(bSrc.dataId);
      expect(Array.from(b.dataSync())).to.deep.equal([1, 0, 1]);
      tf.dispose([same, i, bSrc, b]);
      expect(tf.memory().numTensors).to.equal(m0);
      expect(backend.numDataIds()).to.equal(ids0);
    });

    it('strings go to the original kernel; disposing the clone first keeps the source', function () {
      const m0 = tf.memory().numTensors;
      const s = tf.tensor(['a', 'bc']);
      const sc = tf.clone(s);
      expect(sc.dataSync()).to.deep.equal(['a', 'bc']);
      const x = tf.tensor([1.5, -2.5]);
      const xc = tf.clone(x);
      xc.dispose();
      expect(Array.from(x.dataSync())).to.deep.equal([1.5, -2.5]);
      tf.dispose([s, sc, x]);
      expect(tf.memory().numTensors).to.equal(m0);
    });

    it('a kept clone survives tidy; a variable assigned from a clone keeps its values', function () {
      const m0 = tf.memory().numTensors;
      const kept = tf.tidy(() => tf.keep(tf.clone(tf.tensor([4, 5, 6]))));
      const z = tf.zeros([3]);
      const v = tf.variable(z);
      z.dispose();
      tf.tidy(() => { v.assign(tf.clone(kept)); });
      kept.dispose();
      expect(Array.from(v.dataSync())).to.deep.equal([4, 5, 6]);
      v.dispose();
      expect(tf.memory().numTensors).to.equal(m0);
    });
  });

  describe('bias Add', function () {
    const cases: Array<[number[], number[]]> = [
      [[2, 5, 3, 8], [8]], [[3, 4, 4, 16], [1, 1, 1, 16]], [[5, 12], [12]], [[3, 7], [7]], [[2, 3, 5], [1, 5]],
      [[1, 2, 6], [6]], [[4, 1], [1]], [[9, 3], [3]],
    ];
    for (const [sa, sb] of cases) {
      it(`[${sa.join(',')}] + [${sb.join(',')}] and the swapped order equal a float32 reference exactly`, function () {
        const m0 = tf.memory().numTensors;
        const a = rand(sa, 1, -3, 3);
        const b = rand(sb, 2, -3, 3);
        const av = a.dataSync();
        const bv = b.dataSync();
        const outShape = tf.backend_util.assertAndGetBroadcastShape(sa, sb);
        const big = sizeOf(sa) >= sizeOf(sb) ? av : bv;
        const small = sizeOf(sa) >= sizeOf(sb) ? bv : av;
        const want = Float32Array.from(big, (v, i) => v + small[i % small.length]!);
        for (const [p, q] of [[a, b], [b, a]] as const) {
          const y = tf.add(p, q);
          expect(y.shape).to.deep.equal(outShape);
          expectSameBits(y.dataSync(), want, 'add');
          y.dispose();
        }
        tf.dispose([a, b]);
        expect(tf.memory().numTensors).to.equal(m0);
      });
    }

    it('isBiasOf accepts [C] and [1,...,1,C] only', function () {
      expect(isBiasOf([8], [2, 3, 8])).to.equal(true);
      expect(isBiasOf([1, 8], [2, 3, 8])).to.equal(true);
      expect(isBiasOf([3, 8], [2, 3, 8])).to.equal(false);
      expect(isBiasOf([8], [1, 8])).to.equal(false); // same size: not a broadcast
      expect(isBiasOf([1, 1, 1, 8], [2, 8])).to.equal(false); // would raise the rank
      expect(isBiasOf([4], [2, 3, 8])).to.equal(false);
    });

    it('other broadcasts, NaN/Inf and int32 keep tfjs values', function () {
      const got = run(() => tf.add(rand([4, 3], 3), rand([4, 1], 4)));
      const want = withOriginals(() => run(() => tf.add(rand([4, 3], 3), rand([4, 1], 4))));
      expectSameBits(got, want, '[4,3]+[4,1]');
      const special = run(() => tf.add(tf.tensor2d([NaN, 1, Infinity, -0, 2, -Infinity, 0, 3], [2, 4]), tf.tensor1d([1, -Infinity, -0, -0])));
      expectSameBits(special, [NaN, -Infinity, Infinity, -0, 3, -Infinity, 0, 3], 'special values');
      expect(Array.from(tf.tidy(() => tf.add(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), tf.tensor1d([10, 20], 'int32'))).dataSync()))
        .to.deep.equal([11, 22, 13, 24]);
    });
  });

  describe('Sum over the leading axes', function () {
    const shapes: number[][] = [[64, 28, 28, 8], [128, 14, 14, 16], [3, 5, 7, 36], [4, 5, 20], [7, 12], [9, 3], [5, 6, 10], [1000, 1]];
    for (const shape of shapes) {
      it(`[${shape.join(',')}] -> [${shape[shape.length - 1]}]: max relative error vs float64 <= 1e-6`, function () {
        const m0 = tf.memory().numTensors;
        const x = rand(shape, 5, -1, 2); // mean 0.5: sums well away from 0
        const xv = x.dataSync();
        const c = shape[shape.length - 1]!;
        const ref = new Float64Array(c);
        for (let i = 0; i < xv.length; i++) ref[i % c]! += xv[i]!;
        const axes = shape.slice(0, -1).map((_, i) => i);
        const neg = axes.map((a) => a - shape.length);
        const ours = [tf.sum(x, axes), tf.sum(x, neg), tf.sum(x, axes, true)];
        expect(ours[0]!.shape).to.deep.equal([c]);
        expect(ours[2]!.shape).to.deep.equal([...axes.map(() => 1), c]);
        for (const y of ours) {
          const yv = y.dataSync();
          for (let j = 0; j < c; j++) expect(Math.abs(yv[j]! - ref[j]!) / Math.abs(ref[j]!), `channel ${j}`).to.be.at.most(1e-6);
        }
        tf.dispose([x, ...ours]);
        expect(tf.memory().numTensors).to.equal(m0);
      });
    }

    it('is exact where float32 sums are exact, and propagates NaN/Inf', function () {
      const ints = run(() => tf.sum(tf.tensor3d(Float32Array.from({ length: 2 * 3 * 8 }, (_, i) => i), [2, 3, 8]), [0, 1]));
      expectSameBits(ints, Array.from({ length: 8 }, (_, j) => 6 * j + 8 * 15), 'integer sums');
      const special = run(() => tf.sum(tf.tensor2d([NaN, 1, Infinity, 1, 2, 3, 4, 5, 1, 1, 1, -Infinity], [3, 4]), 0));
      expectSameBits(special, [NaN, 5, Infinity, -Infinity], 'special');
    });

    it('other reductions keep tfjs values (inner axes, one axis, int32, keepDims)', function () {
      const f = (): tf.Tensor[] => {
        const x = rand([3, 4, 5, 8], 6);
        return [tf.sum(x, [1, 2]), tf.sum(x, 3), tf.sum(x), tf.sum(x, [0, 2], true), tf.sum(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), 0)];
      };
      const got = tf.tidy(f).map((t) => { const v = Array.from(t.dataSync()); t.dispose(); return v; });
      const want = withOriginals(() => tf.tidy(f).map((t) => { const v = Array.from(t.dataSync()); t.dispose(); return v; }));
      for (let i = 0; i < want.length; i++) expectSameBits(got[i]!, want[i]!, `reduction ${i}`);
    });

    it('isLeadingAxes', function () {
      expect(isLeadingAxes([0, 1, 2], 4)).to.equal(true);
      expect(isLeadingAxes([-2, 0, 1], 4)).to.equal(true);
      expect(isLeadingAxes(0, 2)).to.equal(true);
      expect(isLeadingAxes([0, 1], 4)).to.equal(false);
      expect(isLeadingAxes([0, 0, 1], 4)).to.equal(false);
      expect(isLeadingAxes([1, 2, 3], 4)).to.equal(false);
      expect(isLeadingAxes(undefined, 3)).to.equal(false);
    });
  });

  describe('Relu gradient (QatReluGrad)', function () {
    const special = [NaN, -0, 0, -1, 2, Infinity, -Infinity, 1e-40, -1e-40, 3];
    const dySpecial = [1, -1, -2, Infinity, 3, 1, NaN, -5, 4, NaN];

    /** [x, dy] of n elements: the special values first, then LCG values. */
    const inputs = (n: number): [Float32Array, Float32Array] => {
      const x = values(n, 7, -1, 1);
      const dy = values(n, 8, -2, 2);
      for (let i = 0; i < Math.min(n, special.length); i++) { x[i] = special[i]!; dy[i] = dySpecial[i]!; }
      return [x, dy];
    };
    const grad = (x: Float32Array, dy: Float32Array): Float32Array =>
      run(() => tf.grad((t: tf.Tensor) => tf.relu(t))(tf.tensor1d(x), tf.tensor1d(dy)));

    for (const n of [1, 3, 4, 10, 17, 37, 1000]) {
      it(`n = ${n}: same values as tfjs' dy * cast(step(x)) (NaN, ±0, ±Inf, tails)`, function () {
        const [x, dy] = inputs(n);
        const m0 = tf.memory().numTensors;
        const got = grad(x, dy);
        expect(tf.memory().numTensors).to.equal(m0);
        const want = withOriginals(() => grad(x, dy));
        expectSameBits(got, want, 'relu grad');
        const formula = Float32Array.from(x, (v, i) => dy[i]! * (v > 0 ? 1 : Number.isNaN(v) ? NaN : 0));
        expectSameBits(got, formula, 'formula');
      });
    }

    it('runs as one kernel on wasm; the cpu kernel gives the same values', async function () {
      const [x, dy] = inputs(37);
      const prof = await tf.profile(() => { tf.grad((t: tf.Tensor) => tf.relu(t))(tf.tensor1d(x), tf.tensor1d(dy)); });
      const names = prof.kernels.map((k) => k.name);
      expect(names).to.include(RELU_GRAD_KERNEL);
      expect(names).to.not.include('Step');
      const wasmVals = grad(x, dy);
      await useBackend('cpu', { quiet: true });
      try {
        // useBackend('cpu') registers QatReluGrad on cpu too: take it out for tfjs' formula, then put it back.
        const had = tf.getKernel(RELU_GRAD_KERNEL, 'cpu') !== undefined;
        if (had) tf.unregisterKernel(RELU_GRAD_KERNEL, 'cpu');
        const formulaCpu = grad(x, dy);
        tf.registerKernel(cpuReluGradConfig);
        try {
          const m0 = tf.memory().numTensors;
          const fused = grad(x, dy);
          expect(tf.memory().numTensors).to.equal(m0);
          expectSameBits(fused, formulaCpu, 'cpu fused vs formula');
          expectSameBits(fused, wasmVals, 'cpu vs wasm');
        } finally {
          if (!had) tf.unregisterKernel(RELU_GRAD_KERNEL, 'cpu');
        }
      } finally {
        await useBackend('wasm', { quiet: true });
      }
    });

    it('second derivatives work (zero w.r.t. x)', function () {
      const g2 = run(() => tf.grad((t: tf.Tensor) => tf.grad((u: tf.Tensor) => tf.relu(u).mul(u))(t).sum())(tf.tensor1d([-1, 0.5, 2])));
      // d/dx [relu'(x)·x + relu(x)] = 2·step(x) (the relu'' term is 0)
      expect(Array.from(g2, (v) => v + 0)).to.deep.equal([0, 2, 2]);
    });

    it('rejects mismatched inputs with a QatError', function () {
      expect(() => tf.engine().runKernel(RELU_GRAD_KERNEL, { dy: tf.zeros([3]), x: tf.zeros([4]) })).to.throw(/must have the same shape/);
    });
  });

  describe('AvgPool and AvgPoolGrad', function () {
    // exactGrad: the gradient is bit-identical to tfjs' kernel (SIMD tiling path, or a pool-2 JS loop where
    // dy·0.25 is exact); otherwise the older JS scatter loop (float64 multiplier) is within 1e-6.
    interface Case { x: [number, number, number, number]; size: number; stride: number; pad: 'valid' | 'same'; exactGrad: boolean }
    const cases: Case[] = [
      { x: [3, 8, 6, 8], size: 2, stride: 2, pad: 'valid', exactGrad: true },
      { x: [2, 7, 5, 4], size: 2, stride: 2, pad: 'valid', exactGrad: true }, // odd H and W: last row/col not covered
      { x: [2, 6, 6, 12], size: 2, stride: 2, pad: 'same', exactGrad: true }, // even: no padding
      { x: [2, 9, 6, 4], size: 3, stride: 3, pad: 'valid', exactGrad: true },
      { x: [2, 8, 8, 3], size: 2, stride: 2, pad: 'valid', exactGrad: true }, // C % 4 != 0: original / JS loop
      { x: [2, 7, 7, 4], size: 3, stride: 2, pad: 'valid', exactGrad: false }, // overlapping
    ];
    const label = (c: Case): string => `x[${c.x.join(',')}] pool ${c.size} stride ${c.stride} ${c.pad}`;
    const fwdGrad = (c: Case): [Float32Array, Float32Array] => {
      const x = rand(c.x, 11, -4, 4);
      const f = (t: tf.Tensor): tf.Tensor => tf.avgPool(t as tf.Tensor4D, c.size, c.stride, c.pad);
      const y = run(() => f(x));
      const dx = run(() => {
        const shape = (tf.tidy(() => f(x)) as tf.Tensor).shape;
        return tf.grad((t: tf.Tensor) => f(t).mul(rand(shape, 12, -2, 2)).sum())(x);
      });
      x.dispose();
      return [y, dx];
    };
    for (const c of cases) {
      it(`${label(c)}: ${c.exactGrad ? 'bit-identical to' : 'within 1e-6 of'} tfjs' wasm kernels, no leaks`, function () {
        const m0 = tf.memory().numTensors;
        const [y, dx] = fwdGrad(c);
        expect(tf.memory().numTensors).to.equal(m0);
        const [yRef, dxRef] = withOriginals(() => fwdGrad(c));
        expectSameBits(y, yRef, 'avgPool');
        if (c.exactGrad) expectSameBits(dx, dxRef, 'avgPoolGrad');
        else {
          const m = dxRef.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
          for (let i = 0; i < dx.length; i++) expect(Math.abs(dx[i]! - dxRef[i]!), `element ${i}`).to.be.at.most(1e-6 * m);
        }
      });
    }

    it('2x2 pool values equal ((x00 + x10) + (x01 + x11)) * 0.25 in float32', function () {
      const xs = values(2 * 4 * 4 * 4, 13, -100, 100);
      const y = run(() => tf.avgPool(tf.tensor4d(xs, [2, 4, 4, 4]), 2, 2, 'valid'));
      const f = Math.fround;
      const at = (b: number, r: number, q: number, k: number): number => xs[((b * 4 + r) * 4 + q) * 4 + k]!;
      const want: number[] = [];
      for (let b = 0; b < 2; b++) for (let r = 0; r < 2; r++) for (let q = 0; q < 2; q++) for (let k = 0; k < 4; k++) {
        want.push(f(f(f(at(b, 2 * r, 2 * q, k) + at(b, 2 * r + 1, 2 * q, k)) + f(at(b, 2 * r, 2 * q + 1, k) + at(b, 2 * r + 1, 2 * q + 1, k))) * 0.25));
      }
      expectSameBits(y, want, 'pool');
    });
  });

  it('a conv + bias + relu + pool + dense training step: same gradients as with tfjs\' kernels', function () {
    const step = (): Float32Array[] => tf.tidy(() => {
      const x = rand([4, 8, 8, 2], 21, 0, 1);
      const w1 = rand([3, 3, 2, 8], 22);
      const b1 = rand([8], 23);
      const w2 = rand([4 * 4 * 8, 5], 24);
      const b2 = rand([5], 25);
      const y = rand([4, 5], 26);
      const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor): tf.Scalar => {
        const h = tf.avgPool(tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, a as tf.Tensor4D, 1, 'same'), b)) as tf.Tensor4D, 2, 2, 'valid');
        return tf.losses.meanSquaredError(y, tf.add(tf.matMul(tf.reshape(h, [4, -1]), c), d));
      };
      return tf.grads(f)([w1, b1, w2, b2]);
    }).map((t) => { const v = t.dataSync().slice() as Float32Array; t.dispose(); return v; });
    const m0 = tf.memory().numTensors;
    const ours = step();
    expect(tf.memory().numTensors).to.equal(m0);
    const ref = withOriginals(step);
    for (let i = 0; i < ref.length; i++) {
      const r = ref[i]!;
      const o = ours[i]!;
      let d = 0;
      let m = 0;
      for (let j = 0; j < r.length; j++) { d = Math.max(d, Math.abs(o[j]! - r[j]!)); m = Math.max(m, Math.abs(r[j]!)); }
      expect(d / m, `gradient ${i}`).to.be.at.most(1e-6);
    }
  });
});
