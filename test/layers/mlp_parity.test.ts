// Layer-level parity: QuantIdentity 8b -> QuantLinear w4 -> ReLU -> QuantIdentity 4b -> QuantLinear w8 (Brevitas' `mlp`
// record), computed independently here from the documented formulas, in eval (fresh and after training) and training mode.
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { quantIdentity, quantLinear, QuantIdentity, QuantLinear } from '../../src/layers/index.js';
import { roundHalfEven } from '../../src/quant/rounding.js';
import { describeEachBackend, arr, relErr, randomFloats, expectNoLeaks } from '../helpers/backends.js';

const f32 = Math.fround;

function fq(x: number, s: number, lo: number, hi: number): number {
  return f32(Math.min(hi, Math.max(lo, roundHalfEven(f32(x / s)))) * s);
}
function wq(W: number[], bits: number): number[] {
  const T = 2 ** (bits - 1) - 1;
  const s = f32(f32(Math.max(...W.map(Math.abs))) / T);
  return W.map((w) => fq(w, s, -T, T));
}
function linear(x: number[], n: number, inDim: number, out: number, W: number[], b: number[]): number[] {
  const y: number[] = [];
  for (let r = 0; r < n; r++) for (let o = 0; o < out; o++) {
    let acc = b[o] ?? 0;
    for (let i = 0; i < inDim; i++) acc += (x[r * inDim + i] ?? 0) * (W[i * out + o] ?? 0);
    y.push(f32(acc));
  }
  return y;
}

describeEachBackend('layers: 5-layer mixed-integer MLP parity', () => {
  const n = 5;
  const W1 = randomFloats(8 * 6, 101, 0.7); const b1 = randomFloats(6, 102, 0.2);
  const W2 = randomFloats(6 * 3, 103, 0.7); const b2 = randomFloats(3, 104, 0.2);
  function build(): { model: tf.Sequential; q1: QuantIdentity; q2: QuantIdentity; l1: QuantLinear; l2: QuantLinear } {
    const model = tf.sequential();
    const q1 = quantIdentity({ bitWidth: 8, inputShape: [8] });
    const l1 = quantLinear({ units: 6, weightBitWidth: 4 });
    const q2 = quantIdentity({ bitWidth: 4 });
    const l2 = quantLinear({ units: 3, weightBitWidth: 8 });
    model.add(q1); model.add(l1); model.add(tf.layers.activation({ activation: 'relu' })); model.add(q2); model.add(l2);
    l1.setWeights([tf.tensor2d(W1, [8, 6]), tf.tensor1d(b1)]);
    l2.setWeights([tf.tensor2d(W2, [6, 3]), tf.tensor1d(b2)]);
    return { model, q1, q2, l1, l2 };
  }
  function reference(X: number[], s1: number, s2: number): number[] {
    const x1 = X.map((v) => fq(v, s1, -128, 127));
    const h = linear(x1, n, 8, 6, wq(W1, 4), b1).map((v) => Math.max(0, v));
    const x2 = h.map((v) => fq(v, s2, -8, 7));
    return linear(x2, n, 6, 3, wq(W2, 8), b2);
  }

  it('fresh eval: activation scales 1/128 and 1/8', () => {
    const { model, q1, q2 } = build();
    const X = randomFloats(n * 8, 105, 1.5);
    const got = tf.tidy(() => arr(model.predict(tf.tensor2d(X, [n, 8])) as tf.Tensor));
    expect([q1.evalScale(), q2.evalScale()]).to.deep.equal([1 / 128, 1 / 8]);
    expect(relErr(got, reference(X, 1 / 128, 1 / 8))).to.be.below(1e-5);
  });

  it('training mode uses each batch statistic; 3 steps then eval uses the EMA buffer; loaded Brevitas values set the learned phase', () => {
    const { model, q1, q2 } = build();
    let buf1 = 0; let buf2 = 0;
    for (let step = 0; step < 3; step++) {
      const X = randomFloats(n * 8, 200 + step, 1 + step);
      const got = tf.tidy(() => arr(model.apply(tf.tensor2d(X, [n, 8]), { training: true }) as tf.Tensor));
      const stat1 = f32(Math.max(...X.map(Math.abs)));
      const s1 = f32(stat1 / 128);
      const x1 = X.map((v) => fq(v, s1, -128, 127));
      const h = linear(x1, n, 8, 6, wq(W1, 4), b1).map((v) => Math.max(0, v));
      const stat2 = f32(Math.max(...h.map(Math.abs)));
      const s2 = f32(stat2 / 8);
      expect(relErr(got, reference(X, s1, s2)), `step ${step}`).to.be.below(1e-5);
      buf1 = step === 0 ? stat1 : f32(f32(buf1 * f32(0.9)) + f32(f32(0.1) * stat1));
      buf2 = step === 0 ? stat2 : f32(f32(buf2 * f32(0.9)) + f32(f32(0.1) * stat2));
    }
    expect(q1.getQuantState()).to.deep.include({ counter: 3, buffer: buf1 });
    expect(q2.getQuantState()).to.deep.include({ counter: 3, buffer: buf2 });
    const X = randomFloats(n * 8, 300, 1);
    const ev = tf.tidy(() => arr(model.predict(tf.tensor2d(X, [n, 8])) as tf.Tensor));
    expect(relErr(ev, reference(X, f32(buf1 / 128), f32(buf2 / 8)))).to.be.below(1e-5);
    // Brevitas state_dict values -> learned phase; scale = value / T in train and eval
    q1.loadBrevitasValue(2.5); q2.loadBrevitasValue(6);
    expect(q1.getQuantState().counter).to.equal(301);
    const ev2 = tf.tidy(() => arr(model.predict(tf.tensor2d(X, [n, 8])) as tf.Tensor));
    const tr2 = tf.tidy(() => arr(model.apply(tf.tensor2d(X, [n, 8]), { training: true }) as tf.Tensor));
    const ref2 = reference(X, f32(2.5 / 128), f32(6 / 8));
    expect(relErr(ev2, ref2)).to.be.below(1e-5);
    expect(relErr(tr2, ref2)).to.be.below(1e-5);
  });

  it('no tensor leaks across training steps with gradients', () => {
    const { model } = build();
    const opt = tf.train.adam(0.01);
    const x = tf.tensor2d(randomFloats(n * 8, 7, 1), [n, 8]);
    const y = tf.tensor2d(randomFloats(n * 3, 8, 1), [n, 3]);
    const step = (): void => { tf.dispose(opt.minimize(() => tf.losses.meanSquaredError(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar) ?? []); };
    step();
    expectNoLeaks(() => { for (let i = 0; i < 3; i++) step(); });
    tf.dispose([x, y]); opt.dispose();
  });
});
