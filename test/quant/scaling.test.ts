import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { absMaxScale, percentileStat, percentileK, exactPow2Ceil, powerOfTwo } from '../../src/quant/scaling.js';
import { describeEachBackend, arr } from '../helpers/backends.js';

describeEachBackend('quant/scaling', () => {
  it("percentileK follows Brevitas' kthvalue rule: max below 50000 elements, 2nd largest at 60000", () => {
    expect(percentileK(49999, 99.999)).to.equal(49999);
    expect(percentileK(60000, 99.999)).to.equal(59999);
    expect(percentileK(1, 99.999)).to.equal(1);
  });
  it('percentileStat: max|x| for small tensors, second largest |x| for 60000 elements (127.99609375, not 128)', () => {
    const small = tf.tidy(() => percentileStat(tf.tensor1d([0.5, -3.25, 2])).dataSync()[0]);
    expect(small).to.equal(3.25);
    const big = tf.tidy(() => {
      const v = new Float32Array(60000);
      for (let i = 0; i < v.length; i++) v[i] = ((i % 1000) / 1000) * 100;
      v[123] = -128;
      v[4567] = 127.99609375;
      return percentileStat(tf.tensor1d(v)).dataSync()[0];
    });
    expect(big).to.equal(127.99609375);
  });
  it('percentileStat gradient goes to the selected element with sign(x)', () => {
    const g = tf.tidy(() => arr(tf.grad((x: tf.Tensor) => percentileStat(x))(tf.tensor1d([0.5, -3.25, 2]))));
    expect(g).to.deep.equal([0, -1, 0]);
  });
  it('absMaxScale per tensor: max|W|/T; gradient sign(W_m)/T at the arg-max (finite differences agree)', () => {
    const w = [0.2, -0.9, 0.4, 0.1];
    const T = 7;
    const s = tf.tidy(() => absMaxScale(tf.tensor2d(w, [2, 2]), { threshold: T }).dataSync()[0] ?? NaN);
    expect(s).to.equal(Math.fround(Math.fround(0.9) / 7));
    const g = tf.tidy(() => arr(tf.grad((x: tf.Tensor) => tf.sum(absMaxScale(x, { threshold: T })))(tf.tensor2d(w, [2, 2]))));
    expect(g[1]).to.be.closeTo(-1 / 7, 1e-7);
    expect([g[0], g[2], g[3]]).to.deep.equal([0, 0, 0]);
    // finite difference on the arg-max element (s is linear in it)
    const eps = 1e-3;
    const s2 = tf.tidy(() => absMaxScale(tf.tensor2d([0.2, -0.9 - eps, 0.4, 0.1], [2, 2]), { threshold: T }).dataSync()[0] ?? NaN);
    expect((s2 - s) / -eps).to.be.closeTo(g[1] ?? NaN, 1e-3);
  });
  it('absMaxScale per channel: one scale per last-axis channel', () => {
    const s = tf.tidy(() => {
      const t = absMaxScale(tf.tensor2d([[0.7, -0.1], [-1.4, 0.05]]), { threshold: 7, perChannel: true });
      return { v: arr(t), shape: t.shape };
    });
    expect(s.shape).to.deep.equal([1, 2]);
    expect(s.v).to.deep.equal([Math.fround(Math.fround(1.4) / 7), Math.fround(Math.fround(0.1) / 7)]);
  });
  it('power-of-two scales are exact at powers of two and round up elsewhere', () => {
    const v = tf.tidy(() => arr(exactPow2Ceil(tf.tensor1d([1, 2, 8, 0.125, 3, 5, 0.1, 1024, 1.0000001]))));
    expect(v).to.deep.equal([1, 2, 8, 0.125, 4, 8, 0.125, 1024, 2]);
    const ps = tf.tidy(() => absMaxScale(tf.tensor1d([0.3, -1.0]), { threshold: 8, restrict: 'powerOfTwo' }).dataSync()[0]);
    expect(ps).to.equal(1 / 8);
    const pg = tf.tidy(() => tf.grad((x: tf.Tensor) => powerOfTwo(x))(tf.scalar(3)).dataSync()[0]);
    expect(pg).to.be.closeTo(4 / 3, 1e-6);
  });
});
