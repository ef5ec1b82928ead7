// QatActStatFakeQuant (one node for a statistics-phase activation forward) against QatActStat + QatActFakeQuant:
// bit-identical outputs, buffers and gradients (signs of zero included) for QuantReLU and QuantIdentity, on inputs
// large enough for the 99.999th percentile to select the 2nd largest |x|, with an SIMD tail, with -0 and zero
// upstream gradients, and when the statistic's element is below Brevitas' 1e-10 floor.
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { quantIdentity, quantReLU } from '../../src/layers/index.js';
import type { QuantActivation } from '../../src/layers/quant_activation.js';
import { setActStatFqKernelEnabled } from '../../src/quant/kernels/ops.js';
import { describeEachBackend, expectNoLeaks, quantInputs } from '../helpers/backends.js';

const bits = (t: tf.Tensor): number[] => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));

/** Upstream gradient weights: mostly random, with -0, +0 and repeated values. */
function weights(n: number, seed: number): number[] {
  const w = quantInputs(n, 0.37, seed, 4);
  for (let i = 0; i < n; i += 7) w[i] = -0;
  for (let i = 3; i < n; i += 11) w[i] = 0;
  return w;
}

/** Per step: [out, dx, dvalue, state] bits of `layer` on x (the input differentiated too), loss sum(out * w). */
function trace(make: () => tf.layers.Layer, x: tf.Tensor, w: tf.Tensor, fused: boolean, steps: number): number[][] {
  const prev = setActStatFqKernelEnabled(fused);
  const layer = make();
  const m = tf.sequential({ layers: [layer] });
  const out: number[][] = [];
  try {
    for (let s = 0; s < steps; s++) {
      tf.tidy(() => {
        const value = m.trainableWeights.map((v) => v.read() as tf.Variable);
        const f = (xi: tf.Tensor, v: tf.Tensor): tf.Tensor => { void v; return tf.sum(tf.mul(m.apply(xi, { training: true }) as tf.Tensor, w)); };
        const g = tf.grads(f)([x, value[0]!]);
        const st = (layer as unknown as QuantActivation).getQuantState();
        out.push(bits(g[0]!), bits(g[1]!), [st.counter, st.buffer, st.value]);
        out.push(bits(m.apply(x, { training: false }) as tf.Tensor));
      });
    }
  } finally {
    setActStatFqKernelEnabled(prev);
    m.dispose();
  }
  return out;
}

describeEachBackend('quant: QatActStatFakeQuant (statistics phase in one node)', () => {
  const n = 2 * 30001; // 60002 elements: rank 2 from the top; n % 4 = 2 (SIMD tail)
  const cases: Array<[string, () => tf.layers.Layer]> = [
    ['QuantReLU 4b', () => quantReLU({ inputShape: [30001], bitWidth: 4, collectStatsSteps: 10 })],
    ['QuantIdentity 3b', () => quantIdentity({ inputShape: [30001], bitWidth: 3, collectStatsSteps: 10 })],
  ];
  for (const [name, make] of cases) {
    it(`${name}: bit-identical to QatActStat + QatActFakeQuant over statistics steps`, () => {
      const x = tf.tensor2d(quantInputs(n, 0.11, 5, 12), [2, 30001]);
      const w = tf.tensor2d(weights(n, 6), [2, 30001]);
      const a = expectNoLeaks(() => trace(make, x, w, true, 3));
      const b = trace(make, x, w, false, 3);
      expect(a.length).to.equal(b.length);
      for (let i = 0; i < a.length; i++) expect(a[i], `entry ${i}`).to.deep.equal(b[i]);
      // the statistic's term at its element makes dx differ from the plain quantizer gradient somewhere, and the
      // -0 upstream weights reach dx as +0 (the engine's Add in the split version)
      const dx = new Float32Array(new Uint32Array(a[0]!).buffer);
      expect(dx.some((v) => Object.is(v, -0))).to.equal(false);
      x.dispose();
      w.dispose();
    });
  }

  it('a statistic below the 1e-10 floor (all-zero input): no statistic term, same as the split kernels', () => {
    const x = tf.zeros([2, 30001]);
    const w = tf.tensor2d(weights(n, 9), [2, 30001]);
    const make = (): tf.layers.Layer => quantReLU({ inputShape: [30001], bitWidth: 4, collectStatsSteps: 10 });
    expect(trace(make, x, w, true, 2)).to.deep.equal(trace(make, x, w, false, 2));
    x.dispose();
    w.dispose();
  });
});
