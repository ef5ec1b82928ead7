// QatWeightFakeQuantGrad's one-pass STE copy + SIMD arg-max search (wasm) against the cpu kernel (JS loops): every
// non-arg-max element of dw is exactly dy, the arg-max elements (ties in one 4-block, at index 0, in the tail) get
// the scale-path term, within 1e-6 of cpu (the double sums differ only in order).
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { fakeQuantizeWeight } from '../../src/quant/fake_quant.js';
import { useBackend } from '../../src/backend/use_backend.js';
import { expectNoLeaks, randomFloats } from '../helpers/backends.js';

describe('quant: QatWeightFakeQuantGrad (wasm SIMD) = cpu kernel', () => {
  after(async () => { await useBackend((process.env['TFJS_QAT_BACKEND'] ?? 'auto') as 'auto', { quiet: true }); });

  const grad = (w0: number[], G: number[], shape: [number, number], threshold: number, pot: boolean): Float32Array => tf.tidy(() => {
    const o = { bitWidth: 4, signed: true, narrowRange: true, threshold, ...(pot ? { restrict: 'powerOfTwo' as const } : {}) };
    const f = (x: tf.Tensor): tf.Tensor => {
      const { wq, scale } = fakeQuantizeWeight(x, o);
      return tf.add(tf.sum(tf.mul(wq, tf.tensor2d(G, shape))), tf.mul(tf.sum(scale), 0.37));
    };
    return tf.grad(f)(tf.tensor2d(w0, shape)).dataSync() as Float32Array;
  });

  for (const [rows, cols] of [[37, 11], [64, 16], [3, 1]] as Array<[number, number]>) {
    for (const pot of [false, true]) {
      it(`[${rows},${cols}]${pot ? ' PoT' : ''}: ties at the max in one block, at index 0 and in the tail`, async () => {
        const n = rows * cols;
        const w0 = randomFloats(n, rows + cols, 0.4);
        const max = 0.75;
        const at = [0, 5, 6, n - 1].filter((i) => i < n);
        at.forEach((i, j) => { w0[i] = j % 2 === 0 ? max : -max; });
        const G = randomFloats(n, 99, 1);
        await useBackend('cpu', { quiet: true });
        const ref = grad(w0, G, [rows, cols], 7, pot);
        await useBackend('wasm', { quiet: true });
        const got = expectNoLeaks(() => grad(w0, G, [rows, cols], 7, pot));
        for (let i = 0; i < n; i++) {
          if (at.includes(i)) {
            expect(got[i]).to.not.equal(Math.fround(G[i]!), `arg-max ${i} got the scale term`);
            expect(Math.abs(got[i]! - ref[i]!)).to.be.at.most(1e-6 * Math.abs(ref[i]!), `arg-max ${i}`);
          } else {
            expect(got[i]).to.equal(Math.fround(G[i]!), `element ${i}`);
          }
        }
      });
    }
  }
});
