import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { quantIdentity, quantConv2D, quantAvgPool2D, quantReLU, QuantConv2D, QuantAvgPool2D } from '../../src/layers/index.js';
import { roundHalfEven } from '../../src/quant/rounding.js';
import { ConfigError } from '../../src/errors.js';
import { describeEachBackend, arr, relErr, randomFloats } from '../helpers/backends.js';

const f32 = Math.fround;

/** Independent NHWC conv with symmetric zero padding (pt, pl) and stride. */
function refConv(x: number[], [n, h, w, c]: number[], k: number[], [kh, kw, , co]: number[], stride: number, pt: number, pl: number, oh: number, ow: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < (n ?? 0); b++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) for (let o = 0; o < (co ?? 0); o++) {
    let acc = 0;
    for (let di = 0; di < (kh ?? 0); di++) for (let dj = 0; dj < (kw ?? 0); dj++) for (let ci = 0; ci < (c ?? 0); ci++) {
      const yi = i * stride + di - pt; const xj = j * stride + dj - pl;
      if (yi < 0 || xj < 0 || yi >= (h ?? 0) || xj >= (w ?? 0)) continue;
      acc += (x[((b * (h ?? 0) + yi) * (w ?? 0) + xj) * (c ?? 0) + ci] ?? 0) * (k[((di * (kw ?? 0) + dj) * (c ?? 0) + ci) * (co ?? 0) + o] ?? 0);
    }
    out.push(acc);
  }
  return out;
}

describeEachBackend('layers/QuantConv2D', () => {
  const cases: Array<{ stride: number; padding: 'same' | 'valid' | number; bits: number; pt: number; pl: number; oh: number }> = [
    { stride: 1, padding: 'valid', bits: 4, pt: 0, pl: 0, oh: 5 },
    { stride: 1, padding: 'same', bits: 4, pt: 1, pl: 1, oh: 7 },
    { stride: 2, padding: 'valid', bits: 4, pt: 0, pl: 0, oh: 3 },
    { stride: 2, padding: 1, bits: 4, pt: 1, pl: 1, oh: 4 },
    { stride: 1, padding: 1, bits: 8, pt: 1, pl: 1, oh: 7 },
  ];
  for (const cs of cases) {
    it(`stride ${cs.stride}, padding ${cs.padding}, w${cs.bits}: equals an independent conv on the quantized kernel`, () => {
      const shape = [2, 7, 7, 2]; const kshape = [3, 3, 2, 3];
      const X = randomFloats(2 * 7 * 7 * 2, 21, 1); const K = randomFloats(3 * 3 * 2 * 3, 22, 0.5); const B = [0.1, -0.2, 0.3];
      const model = tf.sequential();
      const conv = quantConv2D({ filters: 3, kernelSize: 3, strides: cs.stride, padding: cs.padding, weightBitWidth: cs.bits, inputShape: [7, 7, 2] });
      model.add(conv);
      conv.setWeights([tf.tensor4d(K, kshape as [number, number, number, number]), tf.tensor1d(B)]);
      const T = 2 ** (cs.bits - 1) - 1;
      const s = f32(f32(Math.max(...K.map(Math.abs))) / T);
      const kq = K.map((v) => f32(Math.min(T, Math.max(-T, roundHalfEven(f32(v / s)))) * s));
      const want = refConv(X, shape, kq, kshape, cs.stride, cs.pt, cs.pl, cs.oh, cs.oh).map((v, i) => v + (B[i % 3] ?? 0));
      const got = tf.tidy(() => arr(model.predict(tf.tensor4d(X, shape as [number, number, number, number])) as tf.Tensor));
      expect(got.length).to.equal(want.length);
      expect(relErr(got, want)).to.be.below(1e-5);
      expect(conv.worstCaseAccumulatorBitWidth(8)).to.equal(Math.ceil(Math.log2(255 * (2 ** cs.bits - 1) * 18)));
    });
  }
  it('trains (gradients flow to the kernel) on this backend', () => {
    const model = tf.sequential();
    model.add(quantIdentity({ bitWidth: 8, inputShape: [6, 6, 1] }));
    const conv = quantConv2D({ filters: 2, kernelSize: 3, strides: 2, padding: 'same', weightBitWidth: 4 });
    model.add(conv);
    const g = tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.sum(tf.square(model.apply(tf.ones([2, 6, 6, 1]), { training: true }) as tf.Tensor)), [conv.trainableWeights[0]?.read() as tf.Variable]);
      return arr(Object.values(grads)[0] as tf.Tensor);
    });
    expect(g.length).to.equal(18);
    expect(g.some((v) => v !== 0)).to.equal(true);
  });
  it('validates options', () => {
    expect(() => quantConv2D({ filters: 2, kernelSize: 0 })).to.throw(ConfigError, /kernelSize must be positive integers/);
    expect(() => quantConv2D({ filters: 2, kernelSize: 3, padding: 'full' as never })).to.throw(ConfigError, /padding must be 'valid', 'same' or a non-negative integer/);
    expect(conv2dShape()).to.deep.equal([null, 4, 4, 5]);
  });
});

function conv2dShape(): (number | null)[] {
  const c = new QuantConv2D({ filters: 5, kernelSize: 3, strides: 2, padding: 1 });
  return c.computeOutputShape([null, 7, 7, 3]) as (number | null)[];
}

describeEachBackend('layers/QuantAvgPool2D (Brevitas v0.12.1 TruncAvgPool2d)', () => {
  function run(args: { inBits: number; signed: boolean; k: number; bitWidth?: number; truncMode?: 'round' | 'floor' }): { got: number[]; want: number[]; outScale: number } {
    const H = 6;
    const model = tf.sequential();
    const qi = quantIdentity({ bitWidth: args.inBits, signed: args.signed, actQuant: args.signed ? 'Int8ActPerTensorFloat' : 'Uint8ActPerTensorFloat', inputShape: [H, H, 1] });
    model.add(qi);
    const pool = quantAvgPool2D({ poolSize: args.k, ...(args.bitWidth !== undefined ? { bitWidth: args.bitWidth } : {}), ...(args.truncMode !== undefined ? { truncMode: args.truncMode } : {}) });
    model.add(pool);
    const X = randomFloats(H * H, 31 + args.k, 1).map((v) => (args.signed ? v : Math.abs(v)));
    const got = tf.tidy(() => arr(model.predict(tf.tensor4d(X, [1, H, H, 1])) as tf.Tensor));
    const sIn = qi.evalScale();
    const maxIn = args.signed ? 2 ** (args.inBits - 1) - 1 : 2 ** args.inBits - 1;
    const minIn = args.signed ? -(2 ** (args.inBits - 1)) : 0;
    const ints = X.map((v) => Math.min(maxIn, Math.max(minIn, roundHalfEven(f32(v / sIn)))));
    const k2 = args.k * args.k;
    const bwAvg = Math.ceil(Math.log2((2 ** args.inBits - 1) * k2));
    const outBw = args.bitWidth ?? 8;
    const ts = 2 ** (bwAvg - outBw);
    const outScale = f32(f32(sIn / k2) * ts);
    const [lo, hi] = args.signed ? [-(2 ** (outBw - 1)), 2 ** (outBw - 1) - 1] : [0, 2 ** outBw - 1];
    const want: number[] = [];
    const oh = Math.floor((H - args.k) / args.k) + 1;
    for (let i = 0; i < oh; i++) for (let j = 0; j < oh; j++) {
      let sum = 0;
      for (let a = 0; a < args.k; a++) for (let b = 0; b < args.k; b++) sum += ints[(i * args.k + a) * H + j * args.k + b] ?? 0;
      const t = sum / ts;
      const q = Math.min(hi, Math.max(lo, args.truncMode === 'floor' ? Math.floor(t) : roundHalfEven(t)));
      want.push(f32(q * outScale));
    }
    expect(pool.outputQuantMeta().scale).to.equal(outScale);
    return { got, want, outScale };
  }
  it('8-bit signed, k=2: ts = 4, out scale = in scale, q = round(sum/4)', () => {
    const r = run({ inBits: 8, signed: true, k: 2 });
    expect(r.outScale).to.equal(1 / 128);
    expect(relErr(r.got, r.want)).to.be.below(1e-6);
  });
  it('8-bit signed, k=3: ts = 16, out scale = in scale * 16/9', () => {
    const r = run({ inBits: 8, signed: true, k: 3 });
    expect(r.outScale).to.equal(f32(f32(1 / 128 / 9) * 16));
    expect(relErr(r.got, r.want)).to.be.below(1e-6);
  });
  it('unsigned 4-bit, k=2: bwAvg 6 < 8, ts = 1/4 (integers scaled up)', () => {
    const r = run({ inBits: 4, signed: false, k: 2 });
    expect(r.outScale).to.equal(f32(f32(1 / 15 / 4) / 4));
    expect(relErr(r.got, r.want)).to.be.below(1e-6);
  });
  it('bitWidth 4 override: ts = 64; floor mode (TruncTo8bit)', () => {
    expect(relErr(run({ inBits: 8, signed: true, k: 2, bitWidth: 4 }).got, run({ inBits: 8, signed: true, k: 2, bitWidth: 4 }).want)).to.be.below(1e-6);
    const fl = run({ inBits: 8, signed: true, k: 2, truncMode: 'floor' });
    expect(relErr(fl.got, fl.want)).to.be.below(1e-6);
  });
  it('needs a quantized input', () => {
    const model = tf.sequential();
    model.add(tf.layers.dense({ units: 4, inputShape: [4] }));
    model.add(tf.layers.reshape({ targetShape: [2, 2, 1] }));
    model.add(new QuantAvgPool2D({ poolSize: 2 }));
    expect(() => model.predict(tf.zeros([1, 4]))).to.throw(ConfigError, /needs a quantized input.*QuantIdentity/);
  });
  it('QuantReLU feeds it an unsigned grid', () => {
    const model = tf.sequential();
    model.add(quantReLU({ bitWidth: 4, inputShape: [4, 4, 1] }));
    const pool = quantAvgPool2D({ poolSize: 2 });
    model.add(pool);
    const out = tf.tidy(() => arr(model.predict(tf.tensor4d(randomFloats(16, 5), [1, 4, 4, 1])) as tf.Tensor));
    expect(out.every((v) => v >= 0)).to.equal(true);
    expect(pool.outputGrid()).to.deep.equal({ bitWidth: 8, signed: false, narrowRange: false });
  });
});
