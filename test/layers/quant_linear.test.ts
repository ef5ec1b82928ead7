import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { quantIdentity, quantLinear, QuantLinear } from '../../src/layers/index.js';
import { roundHalfEven } from '../../src/quant/rounding.js';
import { ConfigError } from '../../src/errors.js';
import { describeEachBackend, arr, relErr, randomFloats, expectNoLeaks } from '../helpers/backends.js';

const f32 = Math.fround;

function dense(inDim: number, units: number, args: Partial<ConstructorParameters<typeof QuantLinear>[0]> = {}): { model: tf.Sequential; layer: QuantLinear } {
  const model = tf.sequential();
  const layer = quantLinear({ units, inputShape: [inDim], ...args });
  model.add(layer);
  return { model, layer };
}

describeEachBackend('layers/QuantLinear', () => {
  it('quantizes weights with ties to even at scale 1 (max|W| = 7 at 4 bits)', () => {
    const { layer } = dense(8, 1, { weightBitWidth: 4, useBias: false });
    layer.setWeights([tf.tensor2d([2.5, -2.5, 0.5, 1.5, 3.5, 4.5, 6.5, 7], [8, 1])]);
    const iw = layer.getIntWeights();
    expect(Array.from(iw.values)).to.deep.equal([2, -2, 0, 2, 4, 4, 6, 7]);
    expect(Array.from(iw.scale)).to.deep.equal([1]);
  });

  it('per-channel scales: scale[o] = max|W[:, o]| / T', () => {
    const { layer } = dense(2, 2, { weightBitWidth: 4, weightQuant: 'Int8WeightPerChannelFloat', useBias: false });
    layer.setWeights([tf.tensor2d([[0.7, -0.1], [-1.4, 0.05]])]);
    const iw = layer.getIntWeights();
    expect(Array.from(iw.scale)).to.deep.equal([f32(f32(1.4) / 7), f32(f32(0.1) / 7)]);
    expect(Array.from(iw.values)).to.deep.equal([4, -7, -7, 4]);
  });

  it('forward = x @ Wq + b; gradients: G Wq^T, sum G, x^T G plus the scale-path term at the arg-max weight', () => {
    const inDim = 5; const units = 3; const n = 4;
    const W = randomFloats(inDim * units, 11, 0.8);
    const b = randomFloats(units, 12, 0.3);
    const X = randomFloats(n * inDim, 13, 1);
    const G = randomFloats(n * units, 14, 1);
    for (const bits of [4, 2]) {
      const { layer } = dense(inDim, units, { weightBitWidth: bits });
      layer.setWeights([tf.tensor2d(W, [inDim, units]), tf.tensor1d(b)]);
      const T = 2 ** (bits - 1) - 1;
      const m = W.reduce((best, v, i) => (Math.abs(v) > Math.abs(W[best] ?? 0) ? i : best), 0);
      const s = f32(f32(Math.abs(W[m] ?? 0)) / T);
      const q = W.map((w) => Math.min(T, Math.max(-T, roundHalfEven(f32(w / s)))));
      const wq = q.map((v) => f32(v * s));
      // reference forward and gradients
      const y: number[] = []; const gx: number[] = new Array(n * inDim).fill(0); const gw: number[] = new Array(inDim * units).fill(0); const gb: number[] = new Array(units).fill(0);
      for (let r = 0; r < n; r++) for (let o = 0; o < units; o++) {
        let acc = b[o] ?? 0;
        for (let i = 0; i < inDim; i++) acc += (X[r * inDim + i] ?? 0) * (wq[i * units + o] ?? 0);
        y.push(acc);
        const g = G[r * units + o] ?? 0;
        gb[o] = (gb[o] ?? 0) + g;
        for (let i = 0; i < inDim; i++) {
          gx[r * inDim + i] = (gx[r * inDim + i] ?? 0) + g * (wq[i * units + o] ?? 0);
          gw[i * units + o] = (gw[i * units + o] ?? 0) + g * (X[r * inDim + i] ?? 0);
        }
      }
      let term = 0;
      gw.forEach((g, j) => { term += g * ((q[j] ?? 0) - f32((W[j] ?? 0) / s)); });
      const gwFull = gw.map((g, j) => (j === m ? g + Math.sign(W[m] ?? 0) / T * term : g));
      const res = tf.tidy(() => {
        const x = tf.tensor2d(X, [n, inDim]);
        const Gt = tf.tensor2d(G, [n, units]);
        const out = layer.apply(x, { training: true }) as tf.Tensor;
        const f = (xx: tf.Tensor): tf.Scalar => tf.sum(tf.mul(layer.apply(xx, { training: true }) as tf.Tensor, Gt));
        const { grads } = tf.variableGrads(() => f(x), layer.trainableWeights.map((w) => w.read() as tf.Variable));
        const gxT = tf.grad(f)(x);
        const names = Object.keys(grads);
        return { y: arr(out), gx: arr(gxT), gw: arr(grads[names.find((k) => k.includes('kernel')) ?? ''] as tf.Tensor), gb: arr(grads[names.find((k) => k.includes('bias')) ?? ''] as tf.Tensor) };
      });
      expect(relErr(res.y, y), `y b${bits}`).to.be.below(1e-6);
      expect(relErr(res.gx, gx), `gx b${bits}`).to.be.below(1e-5);
      expect(relErr(res.gb, gb), `gb b${bits}`).to.be.below(1e-6);
      expect(relErr(res.gw, gwFull), `gw b${bits}`).to.be.below(1e-5);
      expect(Math.abs((res.gw[m] ?? 0) - (gw[m] ?? 0))).to.be.above(1e-4); // the scale-path term is really there
    }
  });

  it('Int32Bias: bias quantized with scale = input scale x weight scale; output meta reports 15 bits for 8b x 4b x 8', () => {
    const model = tf.sequential();
    const qi = quantIdentity({ bitWidth: 8, inputShape: [8] });
    const lin = quantLinear({ units: 2, weightBitWidth: 4, biasQuant: 'Int32Bias' });
    model.add(qi); model.add(lin);
    const W = randomFloats(16, 3, 1);
    lin.setWeights([tf.tensor2d(W, [8, 2]), tf.tensor1d([0.123456, -0.0001])]);
    const x = tf.tensor2d(randomFloats(8, 4, 0.9), [1, 8]);
    const y = arr(model.predict(x) as tf.Tensor);
    const sIn = 1 / 128;
    const sw = f32(f32(Math.max(...W.map(Math.abs))) / 7);
    const sb = f32(sIn * sw);
    const bq = [0.123456, -0.0001].map((v) => f32(roundHalfEven(f32(f32(v) / sb)) * sb));
    const xq = arr(x).map((v) => f32(Math.min(127, Math.max(-128, roundHalfEven(f32(v / sIn)))) * sIn));
    const wq = W.map((w) => f32(Math.min(7, Math.max(-7, roundHalfEven(f32(w / sw)))) * sw));
    const want = [0, 1].map((o) => xq.reduce((a, v, i) => a + v * (wq[i * 2 + o] ?? 0), bq[o] ?? 0));
    expect(relErr(y, want)).to.be.below(1e-6);
    expect(lin.worstCaseAccumulatorBitWidth(8)).to.equal(15);
    x.dispose();
  });

  it('Int32Bias on a float input is a clear error', () => {
    const { model } = dense(3, 2, { biasQuant: 'Int32Bias' });
    expect(() => model.predict(tf.zeros([1, 3]))).to.throw(ConfigError, /Int32Bias' needs a quantized input.*QuantIdentity/);
  });

  it('a pruning mask zeroes weights before quantization and blocks their gradient', () => {
    const { layer } = dense(3, 2, { weightBitWidth: 4, useBias: false });
    layer.setWeights([tf.tensor2d([[1, 2], [3, -4], [0.5, 0.25]])]);
    layer.setWeightMask(tf.tensor2d([[1, 0], [1, 1], [0, 1]]));
    expect(Array.from(layer.getIntWeights().values)).to.deep.equal([2, 0, 5, -7, 0, 0]);
    expect(layer.activeFanIn()).to.equal(2);
    const g = tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.sum(layer.apply(tf.ones([1, 3]), { training: true }) as tf.Tensor), [layer.trainableWeights[0]?.read() as tf.Variable]);
      return arr(Object.values(grads)[0] as tf.Tensor);
    });
    expect(g[1]).to.equal(0);
    expect(g[4]).to.equal(0);
    expect(() => layer.setWeightMask(tf.ones([2, 2]))).to.throw(ConfigError, /mask shape \[2,2\] differs from the kernel shape \[3,2\]/);
    layer.setWeightMask(null);
  });

  it('validates units and presets', () => {
    expect(() => quantLinear({ units: 0 })).to.throw(ConfigError, /units must be a positive integer, got 0/);
    expect(() => quantLinear({ units: 2, weightQuant: 'Int4Weight' as never })).to.throw(ConfigError, /weightQuant must be one of 'Int8WeightPerTensorFloat'/);
    expect(() => quantLinear({ units: 2, weightBitWidth: 0 })).to.throw(ConfigError, /bitWidth must be an integer in 1\.\.16/);
  });

  it('leaks no tensors in training and inference forwards', () => {
    const { model } = dense(4, 3, { weightBitWidth: 4 });
    const x = tf.ones([2, 4]);
    model.predict(x);
    expectNoLeaks(() => { tf.tidy(() => { model.predict(x); model.apply(x, { training: true }); }); });
    x.dispose();
  });
});
