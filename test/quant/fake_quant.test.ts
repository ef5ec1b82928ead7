import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { fakeQuantize, quantizeToInt } from '../../src/quant/fake_quant.js';
import { roundHalfEven, fakeQuantizeScalar, quantizeScalar } from '../../src/quant/rounding.js';
import { describeEachBackend, arr, expectNoLeaks, randomFloats } from '../helpers/backends.js';

describe('quant/rounding (scalar reference)', () => {
  it('rounds half to even', () => {
    const xs = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 4.5, 6.5, 0.49999997, 2.5000002];
    expect(xs.map(roundHalfEven)).to.deep.equal([-2, -2, -0, 0, 2, 2, 4, 4, 6, 0, 3]);
  });
  it("Brevitas' identity_round_half_even ties at scale 1/128 (clamp after rounding)", () => {
    const q = { scale: 1 / 128, bitWidth: 8, signed: true, narrowRange: false };
    const ks = [-11.5, -10.5, -0.5, 0.5, 1.5, 125.5, 126.5, 127.5, -128.5];
    expect(ks.map((k) => quantizeScalar(k / 128, q))).to.deep.equal([-12, -10, -0, 0, 2, 126, 126, 127, -128]);
  });
});

describeEachBackend('quant/fakeQuantize', () => {
  it('matches the scalar float32 reference bit for bit (2, 3, 4, 8 bits, narrow and full, signed and unsigned)', () => {
    const xs = randomFloats(400, 7, 3);
    for (const bitWidth of [2, 3, 4, 8]) {
      for (const signed of [true, false]) {
        for (const narrowRange of [false, true]) {
          const scale = Math.fround(0.37 / bitWidth);
          const g = { bitWidth, signed, narrowRange, scale };
          const got = tf.tidy(() => arr(fakeQuantize(tf.tensor1d(xs), g))).map((v) => v + 0);
          const want = xs.map((x) => fakeQuantizeScalar(x, g) + 0);
          expect(got).to.deep.equal(want, `b${bitWidth} s${signed} n${narrowRange}`);
          const ints = tf.tidy(() => arr(quantizeToInt(tf.tensor1d(xs), g))).map((v) => v + 0);
          expect(ints).to.deep.equal(xs.map((x) => quantizeScalar(x, g) + 0));
        }
      }
    }
  });
  it('ties with scale 1: 2.5->2, -2.5->-2, 0.5->0, 1.5->2, 3.5->4, 4.5->4 (clamped at 7 for s4 narrow)', () => {
    const out = tf.tidy(() => arr(fakeQuantize(tf.tensor1d([2.5, -2.5, 0.5, 1.5, 3.5, 4.5, 6.5, 9.6, -9.6]), { scale: 1, bitWidth: 4, signed: true, narrowRange: true })));
    expect(out.map((v) => v + 0)).to.deep.equal([2, -2, 0, 2, 4, 4, 6, 7, -7]);
  });
  it("gradient: round is straight-through; 'ste' clamp passes, 'mask' clamp blocks outside [min, max] inclusive", () => {
    const x = tf.tensor1d([0.3, 1.7, 0.9, 1.0, 9.6, -9.6]);
    const g = tf.tensor1d([1, 2, 3, 4, 5, 6]);
    const grid = { scale: 1 / 8, bitWidth: 4, signed: true, narrowRange: false };
    const ste = tf.tidy(() => arr(tf.grad((t: tf.Tensor) => tf.sum(tf.mul(fakeQuantize(t, { ...grid, clampGrad: 'ste' }), g)))(x)));
    const mask = tf.tidy(() => arr(tf.grad((t: tf.Tensor) => tf.sum(tf.mul(fakeQuantize(t, { ...grid, clampGrad: 'mask' }), g)))(x)));
    expect(ste).to.deep.equal([1, 2, 3, 4, 5, 6]);
    // 0.3*8=2.4 in; 1.7*8=13.6->14 out; 0.9*8=7.2->7 in; 1.0*8=8 clamped (max 7); out; -76.8 out
    expect(mask).to.deep.equal([1, 0, 3, 0, 0, 0]);
    x.dispose(); g.dispose();
  });
  it('gradient to the scale: sum G*(q - x/s) inside the range, G*q where clamped (LSQ-like)', () => {
    const xs = [0.3, 1.7, 0.9, -0.55, -2];
    const G = [1, 2, 3, 4, 5];
    const s = 0.125;
    const got = tf.tidy(() => {
      const x = tf.tensor1d(xs);
      const gs = tf.grad((sc: tf.Tensor) => tf.sum(tf.mul(fakeQuantize(x, { scale: sc, bitWidth: 4, signed: true, narrowRange: false }), tf.tensor1d(G))))(tf.scalar(s));
      return gs.dataSync()[0] ?? NaN;
    });
    let want = 0;
    xs.forEach((x, i) => {
      const y = Math.fround(x / s);
      const r = roundHalfEven(y);
      const q = Math.min(7, Math.max(-8, r));
      want += (G[i] ?? 0) * (r >= -8 && r <= 7 ? q - y : q);
    });
    expect(got).to.be.closeTo(want, 1e-5 * Math.abs(want));
  });
  it('per-channel scale tensors broadcast and get per-channel gradients', () => {
    const res = tf.tidy(() => {
      const w = tf.tensor2d([[0.5, -3], [1.2, 2]]);
      const s = tf.tensor2d([[0.25, 1]]);
      const out = fakeQuantize(w, { scale: s, bitWidth: 4, signed: true, narrowRange: true, clampGrad: 'ste' });
      const ds = tf.grad((sc: tf.Tensor) => tf.sum(fakeQuantize(w, { scale: sc, bitWidth: 4, signed: true, narrowRange: true, clampGrad: 'ste' })))(s);
      return { out: arr(out), ds: arr(ds), shape: ds.shape };
    });
    expect(res.out).to.deep.equal([0.5, -3, 1.25, 2]);
    expect(res.shape).to.deep.equal([1, 2]);
    // column 0: (2-2) + (5-4.8) = 0.2; column 1: (-3+3) + (2-2) = 0
    expect(res.ds[0]).to.be.closeTo(0.2, 1e-6);
    expect(res.ds[1]).to.be.closeTo(0, 1e-6);
  });
  it('leaks no tensors', () => {
    const x = tf.tensor1d([0.1, 0.2]);
    expectNoLeaks(() => { tf.tidy(() => { fakeQuantize(x, { scale: 0.1, bitWidth: 4, signed: true, narrowRange: false }); }); });
    x.dispose();
  });
});
