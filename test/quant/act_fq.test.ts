// QatActFakeQuant (`fakeQuantizeClipped`: the activation scale clip / T folded into the quantizer) against the
// unfused composition scale = tf.div(clip, T); fakeQuantize(x, scale) on wasm and cpu: bit-identical outputs,
// scales and gradients to x and to clip (signs of zero included), also when the scale feeds another op
// (the Int32-bias / avg-pool path) and when only the scale is used; QuantReLU/QuantIdentity in both phases (the
// statistics phase also runs QatActStat: statistic + 0 * value and the buffer EMA in one kernel).
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { fakeQuantize, fakeQuantizeClipped } from '../../src/quant/fake_quant.js';
import { quantIdentity, quantLinear, quantReLU } from '../../src/layers/index.js';
import type { QuantActivation } from '../../src/layers/quant_activation.js';
import { setActFqKernelEnabled, setActStatFqKernelEnabled } from '../../src/quant/kernels/ops.js';
import { describeEachBackend, expectNoLeaks, quantInputs, randomFloats } from '../helpers/backends.js';

/** The bits of a float32 array (distinguishes -0 from +0 and NaN payloads). */
const bits = (t: tf.Tensor): number[] => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));

/** Inputs with ties (k + 0.5)·s, ±0, values rounding to -0, clamped values; n % 4 = 3 (SIMD tail). */
const inputs = (n: number, s: number, seed: number): number[] => quantInputs(n, s, seed, 12);

type Grid = { bitWidth: number; signed: boolean; narrowRange: boolean; relu: boolean };

/** [out, scale, dx, dclip] of f(x, clip) with loss sum(out * wOut) + sum(scale) * wS. */
function run(
  f: (x: tf.Tensor, c: tf.Tensor) => { out: tf.Tensor; scale: tf.Tensor }, xs: number[], clip: number, wOut: number[] | null, wS: number | null,
): number[][] {
  return tf.tidy(() => {
    const x = tf.tensor1d(xs);
    const c = tf.scalar(clip);
    const loss = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => {
      const r = f(a, b);
      let l: tf.Tensor = tf.scalar(0);
      if (wOut !== null) l = tf.sum(tf.mul(r.out, tf.tensor1d(wOut)));
      if (wS !== null) l = tf.add(l, tf.mul(r.scale, wS));
      return l;
    };
    // without wOut the output is unused (its gradient is null): differentiate with respect to clip alone
    const g = wOut !== null ? tf.grads(loss)([x, c]) : [tf.scalar(0), tf.grad((b: tf.Tensor) => loss(x, b))(c)];
    const r = f(x, c);
    return [bits(r.out), bits(r.scale), bits(g[0]!), bits(g[1]!)];
  });
}

describeEachBackend('quant: QatActFakeQuant (clip / T folded into the activation quantizer)', () => {
  const grids: Grid[] = [
    { bitWidth: 4, signed: true, narrowRange: false, relu: false },
    { bitWidth: 4, signed: false, narrowRange: false, relu: true },
    { bitWidth: 8, signed: true, narrowRange: true, relu: false },
    { bitWidth: 2, signed: false, narrowRange: false, relu: false },
  ];
  for (const grid of grids) {
    it(`bit-identical to tf.div + fakeQuantize: ${grid.bitWidth}b ${grid.signed ? 'signed' : 'unsigned'}${grid.narrowRange ? ' narrow' : ''}${grid.relu ? ' relu' : ''}`, () => {
      const T = grid.signed ? 2 ** (grid.bitWidth - 1) - (grid.narrowRange ? 1 : 0) : 2 ** grid.bitWidth - 1;
      const clip = Math.fround(1.37);
      const s = Math.fround(clip / T);
      for (const n of [403, 64, 1]) {
        const xs = inputs(n, s, n + grid.bitWidth);
        const w = randomFloats(n, 7 + n, 2);
        const o = { ...grid, clampGrad: 'mask' as const };
        const fused = (x: tf.Tensor, c: tf.Tensor) => fakeQuantizeClipped(x, c, T, o);
        const composed = (x: tf.Tensor, c: tf.Tensor) => {
          const scale = tf.div(c, T);
          return { out: fakeQuantize(x, { ...o, scale }), scale };
        };
        for (const [wOut, wS] of [[w, null], [w, 0.731], [null, -1.5], [w.map(() => 0), null]] as Array<[number[] | null, number | null]>) {
          const a = expectNoLeaks(() => run(fused, xs, clip, wOut, wS));
          const b = run(composed, xs, clip, wOut, wS);
          for (let i = 0; i < 4; i++) expect(a[i], `n=${n} output ${i} wOut=${wOut !== null} wS=${wS}`).to.deep.equal(b[i]);
        }
        // a non-trivial dclip, so the comparison above checks a number
        if (n === 1) continue;
        const g = run(fused, xs, clip, w, null)[3]!;
        expect(new Float32Array(new Uint32Array(g).buffer)[0]).to.not.equal(0);
      }
    });
  }

  it('one kernel forward and one backward; the composed path for other options', async () => {
    const x = tf.tensor1d(inputs(67, 0.1, 1));
    const c = tf.scalar(1.5);
    const o = { bitWidth: 4, signed: true, narrowRange: false };
    const p = await tf.profile(() => {
      tf.dispose(tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(fakeQuantizeClipped(a, b, 7, o).out))([x, c]));
    });
    const ours = p.kernels.map((k) => k.name).filter((n) => n.startsWith('Qat') || n === 'RealDiv');
    expect(ours).to.deep.equal(['QatActFakeQuant', 'QatActFakeQuantGrad']);
    tf.tidy(() => {
      const { out, scale } = fakeQuantizeClipped(x, c, 7, o);
      expect(scale.dataSync()[0]).to.equal(Math.fround(Math.fround(1.5) / 7));
      const ste = fakeQuantizeClipped(x, c, 7, { ...o, clampGrad: 'ste' });
      expect(bits(ste.out)).to.deep.equal(bits(out));
      const prev = setActFqKernelEnabled(false);
      try {
        expect(bits(fakeQuantizeClipped(x, c, 7, o).out)).to.deep.equal(bits(out));
      } finally {
        setActFqKernelEnabled(prev);
      }
    });
    x.dispose();
    c.dispose();
  });

  it('the statistics phase runs QatActStatFakeQuant (one kernel each way), or QatActStat + QatActFakeQuant without it', async () => {
    // (a dense layer first, so that the quantizer's input needs its gradient)
    const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [37], units: 37 }), quantReLU({ bitWidth: 4, collectStatsSteps: 5 })] });
    const x = tf.tensor2d(randomFloats(3 * 37, 8, 1), [3, 37]);
    const kernels = async (): Promise<string[]> => (await tf.profile(() => {
      tf.dispose(tf.variableGrads(() => tf.sum(m.apply(x, { training: true }) as tf.Tensor) as tf.Scalar));
    })).kernels.map((k) => k.name).filter((n) => n.startsWith('Qat') || n === 'Add');
    expect(await kernels()).to.deep.equal(['QatActStatFakeQuant', 'QatActStatFakeQuantGrad']);
    const prev = setActStatFqKernelEnabled(false);
    try {
      const names = await kernels();
      expect(names).to.include.members(['QatActStat', 'QatActFakeQuant', 'QatActFakeQuantGrad', 'QatPercentileStatGrad', 'Add']);
      expect(names).to.not.include('QatPercentileStat');
    } finally {
      setActStatFqKernelEnabled(prev);
    }
    x.dispose();
    m.dispose();
  });

  for (const learned of [false, true]) {
    it(`QuantIdentity -> QuantLinear(Int32Bias) -> QuantReLU -> QuantLinear: bit-identical training with and without the folded division (${learned ? 'learned' : 'statistics then learned'} phase)`, () => {
      const x = tf.tensor2d(randomFloats(9 * 13, 5, 2), [9, 13]);
      const w = tf.tensor2d(randomFloats(9 * 5, 6, 1), [9, 5]);
      const names: string[] = [];
      // 'all': QatActStatFakeQuant / QatActFakeQuant; 'split': QatActStat + QatActFakeQuant; 'composed': tfjs ops
      const trace = (mode: 'all' | 'split' | 'composed'): number[][] => {
        const prev = setActFqKernelEnabled(mode !== 'composed');
        const prevStat = setActStatFqKernelEnabled(mode === 'all');
        const m = tf.sequential({ layers: [
          quantIdentity({ inputShape: [13], bitWidth: 4, collectStatsSteps: 2 }),
          quantLinear({ units: 6, weightBitWidth: 4, biasQuant: 'Int32Bias', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }), biasInitializer: tf.initializers.randomUniform({ minval: -0.3, maxval: 0.3, seed: 4 }) }),
          quantReLU({ bitWidth: 3, collectStatsSteps: 2 }),
          quantLinear({ units: 5, weightBitWidth: 4, biasQuant: 'Int32Bias', kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }),
        ] });
        if (learned) for (const l of [m.layers[0], m.layers[2]]) (l as QuantActivation).setQuantState({ value: 0.9, counter: 3 });
        const out: number[][] = [];
        names.length = 0;
        try {
          const opt = tf.train.sgd(0.05);
          for (let step = 0; step < 5; step++) {
            const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(m.apply(x, { training: true }) as tf.Tensor, w)) as tf.Scalar);
            out.push(bits(value));
            names.push('loss');
            for (const k of Object.keys(grads)) { out.push(bits(grads[k]!)); names.push(k); }
            opt.applyGradients(grads);
            for (const l of [m.layers[0], m.layers[2]] as QuantActivation[]) {
              const st = l.getQuantState();
              out.push(bits(tf.tensor([st.counter, st.buffer, st.value])));
              names.push(`${l.name} state`);
            }
            value.dispose();
            tf.dispose(grads);
          }
          out.push(bits(m.predict(x) as tf.Tensor));
          opt.dispose();
        } finally {
          setActFqKernelEnabled(prev);
          setActStatFqKernelEnabled(prevStat);
          m.dispose();
        }
        return out;
      };
      const b = trace('composed');
      for (const mode of ['all', 'split'] as const) {
        const a = trace(mode);
        expect(a.length).to.equal(b.length);
        for (let i = 0; i < a.length; i++) expect(a[i], `${mode}: entry ${i} ${names[i] ?? ''}`).to.deep.equal(b[i]);
      }
      x.dispose();
      w.dispose();
    });
  }
});
