// The fused ReLU of QuantReLU (`fakeQuantize(x, {relu: true})`, `percentileStat(x, p, {relu: true})`) against the
// unfused compositions with tf.relu(x) on wasm and cpu: equal values, equal gradients to x, the scale gradient
// within 1e-6 relative, the same QuantReLU outputs and gradients in both activation-quantizer phases.
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { fakeQuantize, quantizeToInt } from '../../src/quant/fake_quant.js';
import { percentileStat } from '../../src/quant/scaling.js';
import { setQuantKernelsEnabled } from '../../src/quant/kernels/ops.js';
import { quantLinear, quantReLU } from '../../src/layers/index.js';
import { describeEachBackend, expectNoLeaks, quantInputs, randomFloats, relErr } from '../helpers/backends.js';

/** Inputs with ties (k + 0.5)·s, -0, small negatives that round to -0, x in (0, s/2), clamped values. */
function inputs(n: number, s: number, seed: number): number[] {
  const xs = quantInputs(n, s, seed);
  xs[5] = Math.fround(0.2 * s);
  return xs;
}

/** Values compared with === (so +0 and -0 are equal: a fused ReLU may return +0 where relu(x) then quantize gave -0). */
const vals = (t: tf.Tensor): number[] => Array.from(t.dataSync(), (v) => (v === 0 ? 0 : v));

describeEachBackend('quant: fused ReLU in the activation quantizer', () => {
  for (const kernels of [true, false]) {
    it(`forward equals fakeQuantize(tf.relu(x)) (${kernels ? 'fused kernels' : 'composed ops'}; grids, scalar/tensor scale, intOutput)`, () => {
      const prev = setQuantKernelsEnabled(kernels);
      try {
        const s = Math.fround(0.37 / 7);
        const xs = inputs(403, s, 3);
        for (const bitWidth of [2, 4, 8]) {
          for (const signed of [false, true]) {
            expectNoLeaks(() => tf.tidy(() => {
              const x = tf.tensor1d(xs);
              const o = { bitWidth, signed, narrowRange: false, scale: tf.scalar(s) };
              expect(vals(fakeQuantize(x, { ...o, relu: true }))).to.deep.equal(vals(fakeQuantize(tf.relu(x), o)), `b${bitWidth} s${signed}`);
              expect(vals(quantizeToInt(x, { ...o, relu: true }))).to.deep.equal(vals(quantizeToInt(tf.relu(x), o)));
            }));
          }
        }
      } finally {
        setQuantKernelsEnabled(prev);
      }
    });
  }

  it('gradients to x and to the scale equal those through tf.relu (x <= 0 gets zero)', () => {
    const s = Math.fround(0.11);
    for (const n of [1027, 4096, 3]) {
      const xs = n >= 30 ? inputs(n, s, 5) : [-0.5, 0.01, 0.3];
      const G = randomFloats(n, 6, 1);
      const run = (fused: boolean): { dx: number[]; ds: Float32Array } => tf.tidy(() => {
        const f = (x: tf.Tensor, sc: tf.Tensor): tf.Tensor => {
          const o = { bitWidth: 4, signed: false, narrowRange: false, scale: sc, clampGrad: 'mask' as const };
          const y = fused ? fakeQuantize(x, { ...o, relu: true }) : fakeQuantize(tf.relu(x), o);
          return tf.sum(tf.mul(y, tf.tensor1d(G)));
        };
        const [dx, ds] = tf.grads(f)([tf.tensor1d(xs), tf.scalar(s)]);
        return { dx: vals(dx!), ds: ds!.dataSync() as Float32Array };
      });
      const a = run(true);
      const b = run(false);
      expect(a.dx).to.deep.equal(b.dx, `dx n=${n}`);
      expect(a.dx.some((v, i) => v !== 0 && xs[i]! > 0)).to.equal(true);
      for (let i = 0; i < n; i++) if (!(xs[i]! > 0)) expect(a.dx[i], `dx at x=${xs[i]}`).to.equal(0);
      expect(relErr(a.ds, b.ds)).to.be.below(1e-6, `ds n=${n}: ${a.ds[0]} vs ${b.ds[0]}`);
    }
  });

  it('percentileStat of relu(x): the value and gradient of percentileStat(tf.relu(x)) (max and j-th largest, all-negative input)', () => {
    for (const [n, seed] of [[1003, 1], [100003, 2], [64, 3]] as const) {
      const xs = randomFloats(n, seed, 3);
      if (n === 64) for (let i = 0; i < n; i++) xs[i] = -Math.abs(xs[i]!); // relu(x) = 0 everywhere: the 1e-10 floor
      const run = (fused: boolean): { v: number; dx: number[] } => expectNoLeaks(() => tf.tidy(() => {
        const f = (x: tf.Tensor): tf.Tensor => (fused ? percentileStat(x, 99.999, { relu: true }) : percentileStat(tf.relu(x), 99.999));
        const x = tf.tensor1d(xs);
        const v = f(x).dataSync()[0]!;
        const dx = tf.grad((t: tf.Tensor) => tf.mul(f(t), 3))(x);
        return { v, dx: vals(dx) };
      }));
      const a = run(true);
      const b = run(false);
      expect(a.v, `value n=${n}`).to.equal(b.v);
      expect(a.dx, `dx n=${n}`).to.deep.equal(b.dx);
      if (n !== 64) expect(a.dx.filter((d) => d === 3).length, `one selected element n=${n}`).to.equal(1);
    }
  });

  it('QuantReLU (fused, statistics and learned phase) gives the outputs and gradients of relu + quantizer (kernels off)', () => {
    const build = (): tf.LayersModel => tf.sequential({ layers: [
      quantLinear({ inputShape: [12], units: 9, weightBitWidth: 4, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      quantReLU({ bitWidth: 3, collectStatsSteps: 2 }),
      quantLinear({ units: 3, weightBitWidth: 4, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
    ] });
    const x = tf.tensor2d(randomFloats(8 * 12, 9, 2), [8, 12]);
    const run = (kernels: boolean): { out: number[]; grads: number[][] } => {
      const prev = setQuantKernelsEnabled(kernels);
      try {
        const m = build();
        // 2 statistics steps, the switch, then learned-phase steps (the fused path).
        const res: { out: number[]; grads: number[][] } = { out: [], grads: [] };
        for (let i = 0; i < 4; i++) {
          tf.tidy(() => {
            const { grads } = tf.variableGrads(() => tf.sum(tf.square(m.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar,
              m.trainableWeights.map((w) => w.read() as tf.Variable));
            if (i === 0 || i === 3) res.grads.push(...Object.values(grads).map((g) => Array.from(g.dataSync())));
          });
        }
        res.out = vals(tf.tidy(() => m.predict(x) as tf.Tensor));
        m.dispose();
        return res;
      } finally {
        setQuantKernelsEnabled(prev);
      }
    };
    const fused = run(true);
    const ref = run(false);
    expect(fused.out.length).to.equal(24);
    for (let i = 0; i < fused.out.length; i++) expect(Math.abs(fused.out[i]! - ref.out[i]!)).to.be.below(1e-5, `out ${i}`);
    expect(fused.grads.length).to.equal(ref.grads.length);
    fused.grads.forEach((g, i) => expect(relErr(g, ref.grads[i]!)).to.be.below(1e-5, `grad ${i}`));
    x.dispose();
  });
});
