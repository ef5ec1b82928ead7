// Fused quantizer kernels (src/quant/kernels) against the composed tfjs-op reference on wasm and cpu:
// values bit for bit (including the sign of zero), gradients within 1e-6 relative, no leaked tensors.
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { fakeQuantize, fakeQuantizeWeight, quantizeToInt, type FakeQuantizeOptions, type WeightFakeQuantOptions } from '../../src/quant/fake_quant.js';
import { absMaxScale, exactPow2Ceil, percentileStat } from '../../src/quant/scaling.js';
import { quantKernelsActive, setQuantKernelsEnabled } from '../../src/quant/kernels/ops.js';
import { describeEachBackend, expectNoLeaks, randomFloats, relErr } from '../helpers/backends.js';

/** Run fn with the fused kernels on (true) or off (composed reference). */
function withKernels<T>(on: boolean, fn: () => T): T {
  const prev = setQuantKernelsEnabled(on);
  try {
    return fn();
  } finally {
    setQuantKernelsEnabled(prev);
  }
}

/** Values as an array where -0 is kept distinguishable (Object.is). */
const bits = (t: tf.Tensor): string[] => Array.from(t.dataSync(), (v) => (Object.is(v, -0) ? '-0' : String(v)));

/** Inputs with ties (k + 0.5)·s, values that round to -0, large values that clamp, and n % 4 = 3 (SIMD tail). */
function inputs(n: number, s: number, seed: number): number[] {
  const xs = randomFloats(n, seed, 9 * s);
  for (let k = -9; k <= 9; k++) xs[(k + 9) * 3] = Math.fround((k + 0.5) * s);
  xs[1] = Math.fround(-0.3 * s);
  xs[2] = -0;
  return xs;
}

describeEachBackend('quant/kernels', (backend) => {
  it(`runs the fused kernels on ${backend}`, () => {
    expect(quantKernelsActive()).to.equal(true);
  });

  it('fakeQuantize / quantizeToInt: bit-identical to the composed ops (grids, scalar and per-channel scales, ties, -0, tail)', () => {
    const s = Math.fround(0.37 / 7);
    const xs = inputs(403, s, 11);
    for (const bitWidth of [2, 4, 8]) {
      for (const signed of [true, false]) {
        for (const narrowRange of [false, true]) {
          const g = { bitWidth, signed, narrowRange };
          const cases: Array<() => FakeQuantizeOptions> = [
            () => ({ ...g, scale: s }),
            () => ({ ...g, scale: tf.tensor2d([[s]]) }),
          ];
          for (const mk of cases) {
            const run = (on: boolean): string[][] => withKernels(on, () => tf.tidy(() => {
              const o = mk();
              const x = tf.tensor1d(xs);
              return [bits(fakeQuantize(x, o)), bits(quantizeToInt(x, o))];
            }));
            expect(run(true)).to.deep.equal(run(false), `b${bitWidth} s${signed} n${narrowRange}`);
          }
        }
      }
    }
    const perChannel = (on: boolean): string[] => withKernels(on, () => tf.tidy(() =>
      bits(fakeQuantize(tf.tensor2d(xs.slice(0, 400), [100, 4]), { bitWidth: 4, signed: true, narrowRange: true, scale: tf.tensor2d([[s, s * 2, s / 4, 1]]) }))));
    expect(perChannel(true)).to.deep.equal(perChannel(false));
  });

  it("fakeQuantize gradients ('mask' and 'ste', to x and to the scale) match the composed ops", () => {
    const s = Math.fround(0.11);
    const xs = inputs(1027, s, 5);
    const G = randomFloats(1027, 6, 1);
    for (const clampGrad of ['mask', 'ste'] as const) {
      for (const signed of [true, false]) {
        const run = (on: boolean): { dx: Float32Array; ds: Float32Array } => withKernels(on, () => tf.tidy(() => {
          const [dx, ds] = tf.grads((x: tf.Tensor, sc: tf.Tensor) => tf.sum(tf.mul(fakeQuantize(x, { bitWidth: 4, signed, narrowRange: false, scale: sc, clampGrad }), tf.tensor1d(G))))(
            [tf.tensor1d(xs), tf.scalar(s)]);
          return { dx: dx!.dataSync() as Float32Array, ds: ds!.dataSync() as Float32Array };
        }));
        const k = run(true);
        const c = run(false);
        expect(Array.from(k.dx)).to.deep.equal(Array.from(c.dx), `${clampGrad} dx`);
        expect(relErr(k.ds, c.ds)).to.be.below(1e-6, `${clampGrad} ds ${k.ds[0]} vs ${c.ds[0]}`);
      }
    }
  });

  it('fakeQuantizeWeight = absMaxScale + fakeQuantize: values, and gradients incl. the scale path (per tensor, per channel, PoT, tied maxima)', () => {
    const w0 = randomFloats(24 * 13, 21, 0.4);
    w0[7] = 0.75; w0[50] = -0.75; // tie at the max (opposite signs)
    const G = randomFloats(24 * 13, 22, 1);
    const opts: WeightFakeQuantOptions[] = [
      { bitWidth: 4, signed: true, narrowRange: true, threshold: 7 },
      { bitWidth: 3, signed: true, narrowRange: true, threshold: 3, perChannel: true },
      { bitWidth: 4, signed: true, narrowRange: true, threshold: 8, restrict: 'powerOfTwo' },
      { bitWidth: 8, signed: true, narrowRange: true, threshold: 127 },
    ];
    for (const o of opts) {
      const run = (on: boolean): { wq: string[]; s: string[]; dw: Float32Array } => withKernels(on, () => tf.tidy(() => {
        const w = tf.tensor2d(w0, [24, 13]);
        const f = (x: tf.Tensor): tf.Tensor => {
          const { wq, scale } = fakeQuantizeWeight(x, o);
          // the scale also reaches the loss directly (as through an Int32 bias scale)
          return tf.add(tf.sum(tf.mul(wq, tf.tensor2d(G, [24, 13]))), tf.mul(tf.sum(scale), 3));
        };
        const { wq, scale } = fakeQuantizeWeight(w, o);
        return { wq: bits(wq), s: bits(scale), dw: tf.grad(f)(w).dataSync() as Float32Array };
      }));
      const k = run(true);
      const c = run(false);
      expect(k.wq).to.deep.equal(c.wq);
      expect(k.s).to.deep.equal(c.s);
      expect(relErr(k.dw, c.dw)).to.be.below(1e-6, JSON.stringify(o));
      expect(k.dw[7]).to.not.equal(G[7]); // the scale-path term reached the arg-max elements
    }
  });

  it('absMaxScale: values and gradients match the composed ops', () => {
    const w0 = randomFloats(301, 31, 2);
    for (const o of [{ threshold: 7 }, { threshold: 8, restrict: 'powerOfTwo' as const }]) {
      const run = (on: boolean): { s: string[]; g: Float32Array } => withKernels(on, () => tf.tidy(() => {
        const w = tf.tensor1d(w0);
        return { s: bits(absMaxScale(w, o)), g: tf.grad((x: tf.Tensor) => tf.mul(tf.sum(absMaxScale(x, o)), 5))(w).dataSync() as Float32Array };
      }));
      const k = run(true);
      const c = run(false);
      expect(k.s).to.deep.equal(c.s);
      expect(relErr(k.g, c.g)).to.be.below(1e-6);
    }
  });

  it('percentileStat: max (n < 50000), 2nd (60000) and 9th (802816) largest |x| (or relu(x)) with ties; gradient to the selected element', () => {
    for (const relu of [false, true]) {
      for (const n of [1000, 60000, 802816]) {
        const v = new Float32Array(randomFloats(n, n, 3));
        v[17] = 4; v[n - 5] = -4; v[n - 2] = 3.5; v[100] = 3.5; v[n >> 1] = -3.25; v[n - 7] = 3.25; // ties, sign
        v[40] = -5; v[41] = -0; // a larger negative (ignored by relu), a -0
        const run = (on: boolean): { s: string[]; g: number[] } => withKernels(on, () => tf.tidy(() => {
          const x = tf.tensor1d(v);
          const gr = tf.grad((t: tf.Tensor) => tf.mul(percentileStat(t, 99.999, { relu }), 2))(x).dataSync();
          const nz: number[] = [];
          gr.forEach((e, i) => { if (e !== 0) nz.push(i, e); });
          return { s: bits(percentileStat(x, 99.999, { relu })), g: nz };
        }));
        expect(run(true)).to.deep.equal(run(false), `n=${n} relu=${relu}`);
      }
    }
  });

  it('exactPow2Ceil matches the composed ops', () => {
    const xs = [1, 2, 3, 0.1, 0.125, 1024, 1.0000001, 7.9999995, 1e-10, 3e5];
    const run = (on: boolean): string[] => withKernels(on, () => tf.tidy(() => bits(exactPow2Ceil(tf.tensor1d(xs)))));
    expect(run(true)).to.deep.equal(run(false));
  });

  it('leaks no tensors (forward and gradients of every kernel)', () => {
    const w = tf.tensor2d(randomFloats(64, 1, 1), [8, 8]);
    const x = tf.tensor1d(randomFloats(70000, 2, 1));
    expectNoLeaks(() => {
      tf.tidy(() => {
        tf.grad((t: tf.Tensor) => tf.sum(fakeQuantizeWeight(t, { bitWidth: 4, signed: true, narrowRange: true, threshold: 7 }).wq))(w);
        tf.grad((t: tf.Tensor) => tf.sum(absMaxScale(t, { threshold: 7 })))(w);
        tf.grad((t: tf.Tensor) => percentileStat(t))(x);
        tf.grads((t: tf.Tensor, s: tf.Tensor) => tf.sum(fakeQuantize(t, { bitWidth: 4, signed: true, narrowRange: false, scale: s })))([x, tf.scalar(0.1)]);
        exactPow2Ceil(tf.scalar(3));
      });
    });
    w.dispose();
    x.dispose();
  });
});
