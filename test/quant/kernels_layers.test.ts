// Layer-side shortcuts that come with the fused kernels: the eval-mode cache of the quantized kernel and the JS
// mirror of an activation quantizer's counter must follow every change of the underlying variables.
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { quantIdentity, quantLinear } from '../../src/layers/index.js';
import type { QuantActivation } from '../../src/layers/quant_activation.js';
import { randomFloats } from '../helpers/backends.js';

function model(): tf.Sequential {
  return tf.sequential({ layers: [
    quantIdentity({ inputShape: [6], bitWidth: 4, collectStatsSteps: 2 }),
    quantLinear({ units: 3, weightBitWidth: 4, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
  ] });
}

describe('quant/kernels in the layers', () => {
  it('eval cache: predict follows kernel updates (setWeights, optimizer steps, masks) and leaks nothing', () => {
    const m = model();
    const x = tf.tensor2d(randomFloats(40 * 6, 9, 1), [40, 6]);
    const lin = m.layers[1] as ReturnType<typeof quantLinear>;
    const fresh = (): number[] => tf.tidy(() => Array.from(tf.add(tf.matMul(m.layers[0]!.apply(x) as tf.Tensor2D, lin.quantizedKernel() as tf.Tensor2D), lin.getWeights()[1]!).dataSync()));
    const predict = (): number[] => tf.tidy(() => Array.from((m.predict(x, { batchSize: 8 }) as tf.Tensor).dataSync()));
    // predict takes the integer-exact path (src/layers/exact_eval.ts): equal to the float formula up to float32 rounding
    const same = (a: number[], b: number[]): void => {
      expect(a.length).to.equal(b.length);
      const scale = Math.max(...b.map(Math.abs));
      a.forEach((v, i) => expect(Math.abs(v - b[i]!)).to.be.at.most(2e-6 * scale, `element ${i}`));
    };
    const n0 = tf.memory().numTensors;
    same(predict(), fresh());
    const [k, b] = lin.getWeights();
    lin.setWeights([tf.mul(k!, -2), b!]);
    same(predict(), fresh());
    const opt = tf.train.sgd(0.1);
    const y = tf.ones([40, 3]);
    opt.minimize(() => tf.losses.meanSquaredError(y, m.apply(x, { training: true }) as tf.Tensor));
    same(predict(), fresh());
    const mask = tf.tensor2d(Array.from({ length: 18 }, (_, i) => (i % 3 === 0 ? 0 : 1)), [6, 3]);
    lin.setWeightMask(mask);
    same(predict(), fresh());
    lin.setWeightMask(null);
    same(predict(), fresh());
    y.dispose(); mask.dispose();
    opt.dispose();
    expect(tf.memory().numTensors - n0).to.be.at.most(2 + 2); // the new kernel/bias tensors from setWeights
    m.dispose();
    x.dispose();
  });

  it('counter mirror: training forwards, setQuantState and setWeights are all seen', () => {
    const m = model();
    const act = m.layers[0] as QuantActivation;
    const x = tf.tensor2d(randomFloats(12, 4, 1), [2, 6]);
    tf.tidy(() => { m.apply(x, { training: true }); });
    expect(act.getQuantState().counter).to.equal(1);
    act.setQuantState({ counter: 0 });
    tf.tidy(() => { m.apply(x, { training: true }); m.apply(x, { training: true }); });
    expect(act.getQuantState().counter).to.equal(2);
    const w = act.getWeights();
    const ci = act.weights.findIndex((v) => v.name.endsWith('counter'));
    act.setWeights(w.map((t, i) => (i === ci ? tf.scalar(5) : t)));
    expect(act.getQuantState().counter).to.equal(5);
    tf.tidy(() => { m.apply(x, { training: true }); });
    expect(act.getQuantState().counter).to.equal(5); // learned phase: the counter stays at steps + 1 or above
    m.dispose();
    x.dispose();
  });
});
