// Fused TruncAvgPool2d truncation kernel (QatTruncQuant) against the composed tfjs ops of QuantAvgPool2D on wasm
// and cpu: values bit for bit (including the sign of zero), dv exactly, ds within 1e-6 relative, no leaked tensors.
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { quantAvgPool2D, quantIdentity, quantReLU } from '../../src/layers/index.js';
import { truncateComposed, type TruncMode } from '../../src/layers/quant_avg_pool2d.js';
import { setTruncKernelEnabled, truncKernelActive, truncQuantKernel } from '../../src/quant/kernels/ops.js';
import { describeEachBackend, expectNoLeaks, randomFloats, relErr } from '../helpers/backends.js';

/** Run fn with the fused truncation on (true) or off (composed reference). */
function withTrunc<T>(on: boolean, fn: () => T): T {
  const prev = setTruncKernelEnabled(on);
  try {
    return fn();
  } finally {
    setTruncKernelEnabled(prev);
  }
}

/** Values as strings where -0 is kept distinguishable (Object.is). */
const bits = (a: ArrayLike<number>): string[] => Array.from(a, (v) => (Object.is(v, -0) ? '-0' : String(v)));

/**
 * Averages v: every integer multiple j*s for |j| <= 300 (ties of acc / ts, clamping at both ends, -1..-ts/2 giving
 * -0), ties of the first rounding (j + 0.5)*s, -0.3*s, -0, random values; length 1203 (n % 4 = 3: SIMD tail).
 */
function averages(s: number): number[] {
  const xs = randomFloats(1203, 3, 40 * s);
  for (let j = -300; j <= 300; j++) xs[j + 300] = Math.fround(j * s);
  for (let j = -100; j <= 100; j++) xs[700 + j] = Math.fround((j + 0.5) * s);
  xs[1000] = Math.fround(-0.3 * s);
  xs[1001] = -0;
  xs[1202] = Math.fround(-2 * s);
  return xs;
}

/**
 * ds in double from the float32 terms of the composed gradient: sum G_i * (inside ? f32(f32(q*ts) - y) : f32(q*ts)).
 * (tfjs-wasm's Sum accumulates in float32, so on wasm the composed ds itself is only ~1e-5 relative near this.)
 */
function refDs(xs: number[], G: number[], s: number, ts: number, lo: number, hi: number, mode: TruncMode): number {
  const f32 = Math.fround;
  const rhe = (y: number): number => { const r = Math.round(y); return r - y === 0.5 && r % 2 !== 0 ? r - 1 : r; };
  let acc = 0;
  xs.forEach((v, i) => {
    const y = f32(v / s);
    const t = f32(rhe(y) / ts);
    const r = mode === 'floor' ? Math.floor(t) : rhe(t);
    const qts = f32(Math.min(hi, Math.max(lo, r)) * ts);
    acc += f32((G[i] ?? 0) * (r >= lo && r <= hi ? f32(qts - y) : qts));
  });
  return acc;
}

const GRIDS: ReadonlyArray<[number, number]> = [[-8, 7], [0, 15], [-128, 127], [0, 255], [-2, 1], [0, 3]];
const TS = [0.25, 1, 2, 4, 8, 16];

describeEachBackend('quant/kernels QatTruncQuant', (backend) => {
  it('is active on this backend', () => {
    expect(truncKernelActive()).to.equal(true);
  });

  it('forward: bit-identical to the composed truncation (grids, ts, round/floor, ties, -0, tail)', () => {
    const s = Math.fround(0.37 / 28);
    const xs = averages(s);
    for (const [minInt, maxInt] of GRIDS) {
      for (const ts of TS) {
        for (const mode of ['round', 'floor'] as TruncMode[]) {
          const [k, c] = expectNoLeaks(() => tf.tidy(() => {
            const v = tf.tensor1d(xs);
            const sc = tf.scalar(s);
            return [bits(truncQuantKernel(v, sc, { ts, minInt, maxInt, floor: mode === 'floor' }).dataSync()),
              bits(truncateComposed(v, sc, ts, minInt, maxInt, mode).dataSync())];
          }));
          expect(k, `[${minInt},${maxInt}] ts ${ts} ${mode}`).to.deep.equal(c);
        }
      }
    }
  });

  it('gradients: dv identical, ds within 1e-6 relative, no leaks', () => {
    const s = Math.fround(0.11);
    const xs = averages(s);
    const G = randomFloats(xs.length, 8, 1);
    const gradsOf = (on: boolean, minInt: number, maxInt: number, ts: number, mode: TruncMode): { dv: string[]; ds: number } =>
      expectNoLeaks(() => tf.tidy(() => {
        const f = (v: tf.Tensor, sc: tf.Tensor): tf.Tensor => (on
          ? truncQuantKernel(v, sc, { ts, minInt, maxInt, floor: mode === 'floor' })
          : truncateComposed(v, sc, ts, minInt, maxInt, mode));
        const [dv, ds] = tf.grads((v: tf.Tensor, sc: tf.Tensor) => tf.sum(tf.mul(f(v, sc), tf.tensor1d(G))))([tf.tensor1d(xs), tf.scalar(s)]);
        expect(ds!.shape).to.deep.equal([]);
        return { dv: bits(dv!.dataSync()), ds: ds!.dataSync()[0]! };
      }));
    for (const [minInt, maxInt] of GRIDS) {
      for (const ts of [0.25, 2, 8]) {
        for (const mode of ['round', 'floor'] as TruncMode[]) {
          const k = gradsOf(true, minInt, maxInt, ts, mode);
          const c = gradsOf(false, minInt, maxInt, ts, mode);
          expect(k.dv, `dv [${minInt},${maxInt}] ts ${ts} ${mode}`).to.deep.equal(c.dv);
          const want = refDs(xs, G, s, ts, minInt, maxInt, mode);
          expect(relErr([k.ds], [want]), `ds [${minInt},${maxInt}] ts ${ts} ${mode}: ${k.ds} vs ${want}`).to.be.below(1e-6);
          expect(relErr([c.ds], [want]), `composed ds [${minInt},${maxInt}] ts ${ts} ${mode}: ${c.ds} vs ${want}`).to.be.below(backend === 'cpu' ? 1e-6 : 1e-4);
        }
      }
    }
  });

  it('QuantAvgPool2D: same outputs, input gradient and scale gradients with the kernel on and off', () => {
    const X = randomFloats(3 * 9 * 9 * 5, 12, 2);
    for (const cfg of [
      { signed: true, pool: 2, strides: 2, bw: 4, inBw: 4, mode: 'round' as TruncMode },
      { signed: false, pool: 3, strides: 3, bw: 3, inBw: 4, mode: 'floor' as TruncMode },
      { signed: true, pool: 3, strides: 3, bw: 8, inBw: 8, mode: 'round' as TruncMode },
      { signed: false, pool: 2, strides: 3, bw: 2, inBw: 8, mode: 'round' as TruncMode },
    ]) {
      const run = (on: boolean): { y: string[]; dx: string[]; dw: number[] } => withTrunc(on, () => {
        const act = cfg.signed ? quantIdentity({ bitWidth: cfg.inBw, inputShape: [9, 9, 5], collectStatsSteps: 1 })
          : quantReLU({ bitWidth: cfg.inBw, inputShape: [9, 9, 5], collectStatsSteps: 1 });
        const model = tf.sequential({ layers: [act, quantAvgPool2D({ poolSize: cfg.pool, strides: cfg.strides, bitWidth: cfg.bw, truncMode: cfg.mode })] });
        const x = tf.tensor4d(X, [3, 9, 9, 5]);
        const oShape = [3, ...(model.outputShape as number[]).slice(1)] as [number, number, number, number];
        const g = tf.tensor4d(randomFloats(oShape.reduce((a, b) => a * b, 1), 13, 1), oShape);
        for (let i = 0; i < 2; i++) tf.tidy(() => { model.apply(x, { training: true }); });
        const out = expectNoLeaks(() => tf.tidy(() => {
          const loss = (xx: tf.Tensor): tf.Scalar => tf.sum(tf.mul(model.apply(xx, { training: true }) as tf.Tensor, g));
          const y = bits((model.apply(x, { training: true }) as tf.Tensor).dataSync());
          const dx = bits(tf.grad(loss)(x).dataSync());
          const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
          const { grads } = tf.variableGrads(() => loss(x), vars);
          const dw = vars.flatMap((v) => Array.from(grads[v.name]!.dataSync()));
          return { y, dx, dw };
        }));
        tf.dispose([x, g]);
        model.dispose();
        return out;
      });
      const k = run(true);
      const c = run(false);
      const label = JSON.stringify(cfg);
      expect(k.y, label).to.deep.equal(c.y);
      expect(k.y.some((v) => v !== '0' && v !== '-0'), label).to.equal(true);
      expect(k.dx, label).to.deep.equal(c.dx);
      expect(k.dw.length, label).to.equal(c.dw.length);
      expect(k.dw.some((v) => v !== 0) && k.dx.some((v) => v !== '0'), label).to.equal(true);
      expect(relErr(k.dw, c.dw), label).to.be.below(1e-6);
    }
  });

  it('QuantAvgPool2D runs QatAvgTruncQuant (and its gradient) when on, the composed ops when off', async () => {
    const names = async (on: boolean): Promise<string[]> => {
      const prev = setTruncKernelEnabled(on);
      try {
        const model = tf.sequential({ layers: [quantIdentity({ bitWidth: 4, inputShape: [4, 4, 2] }), quantAvgPool2D({ poolSize: 2, bitWidth: 4 })] });
        const x = tf.randomUniform([2, 4, 4, 2], -1, 1, 'float32', 4);
        const p = await tf.profile(() => tf.tidy(() => { tf.grad((xx: tf.Tensor) => tf.sum(model.apply(xx, { training: true }) as tf.Tensor))(x); }));
        x.dispose();
        model.dispose();
        return p.kernelNames;
      } finally {
        setTruncKernelEnabled(prev);
      }
    };
    const on = await names(true);
    const off = await names(false);
    expect(on).to.include.members(['QatAvgTruncQuant', 'QatAvgTruncQuantGrad']);
    expect(on).to.not.include('RealDiv');
    expect(off).to.not.include('QatTruncQuant');
    expect(off).to.not.include('QatAvgTruncQuant');
    expect(off).to.include.members(['Round', 'ClipByValue']);
  });
});
