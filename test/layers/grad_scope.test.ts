// Skipping the first layer's input gradient in the statistics phase (src/layers/grad_scope.ts): inside
// withVariableOnlyGradients every variable gets bit-identical gradients with one matmul/conv fewer; outside it (and
// for inputs that need a gradient) nothing is skipped.
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { quantConv2D, quantIdentity, quantLinear, quantReLU, quantAvgPool2D } from '../../src/layers/index.js';
import { inputNeedsNoGradient, withVariableOnlyGradients } from '../../src/layers/grad_scope.js';
import { makeOptimizer } from '../../src/training/optimizers.js';
import { FusedAdam } from '../../src/training/fused_adam.js';
import { describeEachBackend, expectNoLeaks, randomFloats } from '../helpers/backends.js';

const g = (s: number): tf.serialization.Serializable => tf.initializers.glorotUniform({ seed: s });

function mlp(steps: number): tf.LayersModel {
  return tf.sequential({ layers: [
    quantIdentity({ inputShape: [20], bitWidth: 4, collectStatsSteps: steps }),
    quantLinear({ units: 16, weightBitWidth: 4, kernelInitializer: g(4) as never }),
    quantReLU({ bitWidth: 4, collectStatsSteps: steps }),
    quantLinear({ units: 3, weightBitWidth: 4, kernelInitializer: g(5) as never }),
  ] });
}

function cnn(steps: number): tf.LayersModel {
  return tf.sequential({ layers: [
    quantIdentity({ inputShape: [6, 6, 1], bitWidth: 4, collectStatsSteps: steps }),
    quantConv2D({ filters: 3, kernelSize: 3, padding: 'same', weightBitWidth: 4, kernelInitializer: g(6) as never }),
    quantReLU({ bitWidth: 4, collectStatsSteps: steps }), quantAvgPool2D({ poolSize: 2, bitWidth: 4 }), tf.layers.flatten(),
    quantLinear({ units: 3, weightBitWidth: 4, kernelInitializer: g(7) as never }),
  ] });
}

/** Gradients of every variable over `n` training forwards (the quantizers' state advances through the phases). */
function gradsOver(build: () => tf.LayersModel, x: tf.Tensor, n: number, scoped: boolean): number[][][] {
  const m = build();
  const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
  const loss = (): tf.Scalar => tf.sum(tf.square(m.apply(x, { training: true }) as tf.Tensor));
  const out: number[][][] = [];
  for (let i = 0; i < n; i++) {
    tf.tidy(() => {
      const { grads } = tf.variableGrads(scoped ? () => withVariableOnlyGradients(loss) : loss, vars);
      // (+ 0: the value gradient is 0 * dclip, whose sign follows dclip's; Adam treats -0 and +0 alike)
      out.push(vars.map((v) => Array.from(grads[v.name]!.dataSync(), (e) => e + 0)));
    });
  }
  m.dispose();
  return out;
}

async function kernelNames(build: () => tf.LayersModel, x: tf.Tensor, scoped: boolean): Promise<string[]> {
  const m = build();
  const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
  const loss = (): tf.Scalar => tf.sum(tf.square(m.apply(x, { training: true }) as tf.Tensor));
  tf.tidy(() => { tf.variableGrads(loss, vars); }); // one step first: with collectStatsSteps 1 the profiled step is learned
  const p = await tf.profile(() => { tf.tidy(() => { tf.variableGrads(scoped ? () => withVariableOnlyGradients(loss) : loss, vars); }); });
  m.dispose();
  return p.kernels.map((k) => k.name);
}

const count = (names: string[], k: string): number => names.filter((n) => n === k).length;

describeEachBackend('layers: skipping the statistics-phase input gradient (grad_scope)', () => {
  it('MLP: identical gradients for every variable over the statistics phase and the switch, one BatchMatMul fewer', async () => {
    const x = tf.tensor2d(randomFloats(6 * 20, 3, 2), [6, 20]);
    const plain = gradsOver(() => mlp(3), x, 5, false);
    const scoped = gradsOver(() => mlp(3), x, 5, true);
    expect(scoped).to.deep.equal(plain);
    // the value gradients are exact zeros in the statistics phase, non-zero in the learned phase
    expect(plain[0]![0]).to.deep.equal([0]);
    expect(plain[4]![0]![0]).to.not.equal(0);
    const kp = await kernelNames(() => mlp(100), x, false);
    const ks = await kernelNames(() => mlp(100), x, true);
    expect(count(ks, 'BatchMatMul')).to.equal(count(kp, 'BatchMatMul') - 1);
    // and the input quantizer's gradient kernel does not run (its value gradient is a zero without it)
    expect(count(kp, 'QatActStatFakeQuantGrad')).to.equal(2);
    expect(count(ks, 'QatActStatFakeQuantGrad')).to.equal(1);
    // learned phase: nothing is skipped
    const lp = await kernelNames(() => mlp(1), x, false);
    const ls = await kernelNames(() => mlp(1), x, true);
    expect(count(ls, 'BatchMatMul')).to.equal(count(lp, 'BatchMatMul'));
    x.dispose();
  });

  it('flattened image input (data -> flatten -> QuantIdentity -> QuantLinear): identical gradients, one BatchMatMul fewer', async () => {
    const flat = (steps: number) => (): tf.LayersModel => tf.sequential({ layers: [
      tf.layers.flatten({ inputShape: [4, 5, 1] }), quantIdentity({ bitWidth: 4, collectStatsSteps: steps }),
      quantLinear({ units: 6, weightBitWidth: 4, kernelInitializer: g(8) as never }), quantReLU({ bitWidth: 4, collectStatsSteps: steps }),
      quantLinear({ units: 3, weightBitWidth: 4, kernelInitializer: g(9) as never }),
    ] });
    const x = tf.tensor4d(randomFloats(6 * 20, 13, 2), [6, 4, 5, 1]);
    expect(gradsOver(flat(3), x, 5, true)).to.deep.equal(gradsOver(flat(3), x, 5, false));
    const kp = await kernelNames(flat(100), x, false);
    const ks = await kernelNames(flat(100), x, true);
    expect(count(ks, 'BatchMatMul')).to.equal(count(kp, 'BatchMatMul') - 1);
    x.dispose();
  });

  it('CNN: identical gradients, no Conv2DBackpropInput for the first conv', async () => {
    const x = tf.tensor4d(randomFloats(4 * 36, 5, 2), [4, 6, 6, 1]);
    const plain = gradsOver(() => cnn(3), x, 5, false);
    const scoped = gradsOver(() => cnn(3), x, 5, true);
    expect(scoped).to.deep.equal(plain);
    const kp = await kernelNames(() => cnn(100), x, false);
    const ks = await kernelNames(() => cnn(100), x, true);
    expect(count(kp, 'Conv2DBackpropInput')).to.equal(1);
    expect(count(ks, 'Conv2DBackpropInput')).to.equal(0);
    x.dispose();
  });

  it('an optimizer step (FusedAdam.minimize) gives the same weights with and without the skip, and leaks nothing', () => {
    const x = tf.tensor2d(randomFloats(6 * 20, 8, 2), [6, 20]);
    const run = (scoped: boolean): number[][] => {
      const m = mlp(2);
      const opt = makeOptimizer('adam', 0.01);
      const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
      const loss = (): tf.Scalar => tf.sum(tf.square(m.apply(x, { training: true }) as tf.Tensor));
      for (let i = 0; i < 4; i++) {
        if (scoped) opt.minimize(loss, false, vars);
        else opt.applyGradients(tf.variableGrads(loss, vars).grads);
      }
      expectNoLeaks(() => { opt.minimize(loss, false, vars); });
      const w = vars.map((v) => Array.from(v.dataSync()));
      opt.dispose();
      m.dispose();
      return w;
    };
    expect(run(true)).to.deep.equal(run(false));
    x.dispose();
  });

  it('model.fit with FusedAdam (the skip applies) trains to the same weights as without the skip and as tf.train.adam', async () => {
    const x = tf.tensor2d(randomFloats(16 * 20, 12, 2), [16, 20]);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0], 'int32'), 3);
    /** FusedAdam with tfjs' own computeGradients (no variable-only scope: nothing is skipped). */
    class NoSkip extends FusedAdam {
      override computeGradients(f: () => tf.Scalar, varList?: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
        return tf.AdamOptimizer.prototype.computeGradients.call(this, f, varList);
      }
    }
    const fit = async (opt: tf.Optimizer): Promise<number[][]> => {
      const m = mlp(3);
      m.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
      await m.fit(x, y, { epochs: 3, batchSize: 4, shuffle: false, verbose: 0 });
      const w = m.getWeights().map((t) => Array.from(t.dataSync()));
      m.dispose();
      opt.dispose();
      return w;
    };
    // 12 steps: 3 statistics steps, the switch, 8 learned steps (tfjs' default epsilon in all three)
    const skipped = await fit(new FusedAdam(0.01, 0.9, 0.999));
    const plain = await fit(new NoSkip(0.01, 0.9, 0.999));
    expect(skipped).to.deep.equal(plain);
    expect(plain).to.deep.equal(await fit(tf.train.adam(0.01)));
    tf.dispose([x, y]);
  });

  it('nothing is skipped for an input that may need its gradient (outside the scope, a taped input, a variable)', () => {
    const x = tf.tensor2d(randomFloats(6 * 20, 9, 2), [6, 20]);
    const m = mlp(100);
    // tf.grad with respect to the input (outside the scope): the statistics-phase input gradient is computed
    const dx = tf.tidy(() => tf.grad((xi: tf.Tensor) => tf.sum(tf.square(m.apply(xi, { training: true }) as tf.Tensor)))(x));
    expect(tf.max(tf.abs(dx)).dataSync()[0]).to.be.greaterThan(0);
    dx.dispose();
    const v = tf.variable(tf.ones([2]));
    const probes: boolean[] = [];
    tf.tidy(() => tf.variableGrads(() => withVariableOnlyGradients(() => {
      const y = tf.mul(v, 2);
      // data reshaped by a taped op still needs none; anything computed from a variable does
      probes.push(inputNeedsNoGradient(x), inputNeedsNoGradient(y), inputNeedsNoGradient(v), inputNeedsNoGradient(tf.reshape(tf.mul(x, 2), [-1])),
        inputNeedsNoGradient(tf.add(tf.reshape(x, [-1]), tf.sum(y))));
      return tf.sum(y) as tf.Scalar;
    }), [v]));
    expect(probes.splice(0, 5)).to.deep.equal([true, false, false, true, false]);
    // outside the scope: never
    tf.tidy(() => tf.variableGrads(() => { probes.push(inputNeedsNoGradient(x)); return tf.sum(tf.mul(v, 2)) as tf.Scalar; }, [v]));
    expect(probes).to.deep.equal([false]);
    v.dispose();
    m.dispose();
    x.dispose();
  });
});
