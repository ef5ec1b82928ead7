// QatAvgTruncQuant (QuantAvgPool2D's sAvg = sIn / k and output scale sAvg * ts folded into the truncation kernel)
// against the composition tf.div(tf.reshape(sIn, []), k) -> QatTruncQuant, tf.mul(sAvg, ts) on wasm and cpu:
// bit-identical outputs, output scales and gradients to v and sIn, with and without a use of the output scale.
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { avgTruncQuantKernel, truncQuantKernel } from '../../src/quant/kernels/ops.js';
import { describeEachBackend, expectNoLeaks, randomFloats } from '../helpers/backends.js';

const bits = (t: tf.Tensor): number[] => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));

type F = (v: tf.Tensor, s: tf.Tensor) => [tf.Tensor, tf.Tensor];

function run(f: F, vs: number[], sIn: number, sShape: number[], wOut: number[] | null, wS: number | null): number[][] {
  return tf.tidy(() => {
    const v = tf.tensor1d(vs);
    const s = tf.tensor(sIn, sShape);
    const loss = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => {
      const [out, sOut] = f(a, b);
      let l: tf.Tensor = tf.scalar(0);
      if (wOut !== null) l = tf.sum(tf.mul(out, tf.tensor1d(wOut)));
      if (wS !== null) l = tf.add(l, tf.mul(sOut, wS));
      return l;
    };
    const g = wOut !== null ? tf.grads(loss)([v, s]) : [tf.scalar(0), tf.grad((b: tf.Tensor) => loss(v, b))(s)];
    const [out, sOut] = f(v, s);
    return [bits(out), bits(sOut), bits(g[0]!), bits(g[1]!), g[1]!.shape];
  });
}

describeEachBackend('quant: QatAvgTruncQuant (QuantAvgPool2D scale arithmetic folded in)', () => {
  for (const cfg of [
    { k: 4, ts: 2, minInt: -8, maxInt: 7, floor: false },
    { k: 9, ts: 4, minInt: 0, maxInt: 7, floor: true },
    { k: 4, ts: 8, minInt: 0, maxInt: 255, floor: false },
  ]) {
    it(`bit-identical to div + QatTruncQuant + mul: ${JSON.stringify(cfg)}`, () => {
      const { k, ts } = cfg;
      const a = { ts, minInt: cfg.minInt, maxInt: cfg.maxInt, floor: cfg.floor };
      const fused: F = (v, s) => avgTruncQuantKernel(v, s, { ...a, k });
      const composed: F = (v, s) => {
        const sAvg = tf.div(tf.reshape(s, []), k);
        return [truncQuantKernel(v, sAvg, a), tf.mul(sAvg, ts)];
      };
      const sIn = Math.fround(0.173);
      for (const n of [203, 64, 3]) {
        const sAvg = Math.fround(sIn / k);
        const vs = randomFloats(n, n + k, sAvg * cfg.maxInt * ts * 1.3);
        for (let j = 0; j < Math.min(n, 10); j++) vs[j] = Math.fround((j - 5 + 0.5) * sAvg); // ties
        const w = randomFloats(n, 3 + n, 1);
        for (const sShape of [[], [1]]) {
          for (const [wOut, wS] of [[w, null], [w, -0.61], [null, 2.5]] as Array<[number[] | null, number | null]>) {
            const x = expectNoLeaks(() => run(fused, vs, sIn, sShape, wOut, wS));
            const y = run(composed, vs, sIn, sShape, wOut, wS);
            for (let i = 0; i < 5; i++) expect(x[i], `n=${n} shape [${sShape.join(',')}] out ${i} wS=${wS}`).to.deep.equal(y[i]);
          }
        }
        if (n < 10) continue;
        const d = run(fused, vs, sIn, [], w, null)[3]!;
        expect(new Float32Array(new Uint32Array(d).buffer)[0]).to.not.equal(0);
      }
    });
  }
});
