// The learned clip value of an activation quantizer: during the statistics phase an exactly-zero gradient every
// step (Brevitas' `+ 0 * value`), so every variable is in every step's gradient list (tfjs optimizers pair their
// state with variables by position); in the learned phase a non-zero gradient.
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { quantIdentity, quantLinear, quantReLU } from '../../src/layers/index.js';
import { describeEachBackend, randomFloats } from '../helpers/backends.js';

function model(steps: number): tf.LayersModel {
  return tf.sequential({ layers: [
    quantIdentity({ inputShape: [20], bitWidth: 4, collectStatsSteps: steps }),
    quantLinear({ units: 16, weightBitWidth: 4, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
    quantReLU({ bitWidth: 4, collectStatsSteps: steps }),
    quantLinear({ units: 3, weightBitWidth: 4, kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }),
  ] });
}

describeEachBackend('layers: activation quantizer phases and the learned value', () => {
  it('statistics phase: every learned value gets an exactly-zero gradient, every other variable a gradient', () => {
    const m = model(5);
    const x = tf.tensor2d(randomFloats(6 * 20, 3, 2), [6, 20]);
    const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
    const valueNames = m.trainableWeights.filter((w) => /value/i.test(w.name)).map((w) => (w.read() as tf.Variable).name);
    expect(valueNames.length).to.equal(2);
    for (let i = 0; i < 3; i++) {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => tf.sum(tf.square(m.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, vars);
        expect(Object.keys(grads).sort()).to.deep.equal(vars.map((v) => v.name).sort());
        for (const n of valueNames) expect(Array.from(grads[n]!.dataSync())).to.deep.equal([0]);
        for (const [n, g] of Object.entries(grads)) if (!valueNames.includes(n) && !/bias/i.test(n)) expect(tf.max(tf.abs(g)).dataSync()[0]!, n).to.be.greaterThan(0);
      });
    }
    x.dispose();
    m.dispose();
  });

  it('learned phase: the first layer input gradient is computed (the clip value learns) and the value gradient is not zero', () => {
    const m = model(1);
    const x = tf.tensor2d(randomFloats(6 * 20, 3, 2), [6, 20]);
    const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
    const firstValue = m.layers[0]!.trainableWeights.map((w) => (w.read() as tf.Variable).name).find((n) => /value/i.test(n))!;
    let g0 = 0;
    for (let i = 0; i < 3; i++) {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => tf.sum(tf.square(m.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, vars);
        g0 = grads[firstValue]!.dataSync()[0]!;
      });
    }
    expect(g0).to.not.equal(0);
    x.dispose();
    m.dispose();
  });
});
