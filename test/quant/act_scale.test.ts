import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { actQuant } from '../../src/quant/presets.js';
import { activationScaleStep, learnedValueFromBuffer, needsLearnedSwitch, actThreshold } from '../../src/quant/act_scale.js';
import { describeEachBackend } from '../helpers/backends.js';
import { fakeQuantize } from '../../src/quant/fake_quant.js';
import { roundHalfEven } from '../../src/quant/rounding.js';
import { ConfigError } from '../../src/errors.js';

const f32 = Math.fround;

describeEachBackend('quant/act_scale', () => {
  it('fresh eval scales: 1/128 (s8), 1/8 (s4), 1/2 (s2), 1/255 (u8), 1/3 (u2)', () => {
    const cfgs = [
      actQuant('Int8ActPerTensorFloat'), actQuant('Int8ActPerTensorFloat', { bitWidth: 4 }), actQuant('Int8ActPerTensorFloat', { bitWidth: 2 }),
      actQuant('Uint8ActPerTensorFloat'), actQuant('Uint8ActPerTensorFloat', { bitWidth: 2 }),
    ];
    const got = cfgs.map((c) => tf.tidy(() => activationScaleStep(tf.zeros([1]), c, { counter: 0, buffer: tf.scalar(1), value: tf.scalar(1) }, false).scale.dataSync()[0]));
    expect(got).to.deep.equal([1 / 128, 1 / 8, 1 / 2, f32(1 / 255), f32(1 / 3)]);
  });

  it('state machine with collectStatsSteps = 3: batch statistic, float32 EMA, then value := buffer at step 4', () => {
    const cfg = actQuant('Int8ActPerTensorFloat', { bitWidth: 4, collectStatsSteps: 3 });
    const T = actThreshold(cfg);
    expect(T).to.equal(8);
    const batches = [[0.5, -2.0, 1.0], [3.0, 0.1], [-1.5, 1.2], [0.3, 9]];
    let counter = 0;
    let buffer = 1;
    let value = 1;
    let refBuffer = 0;
    const scales: number[] = [];
    for (const [i, b] of batches.entries()) {
      tf.tidy(() => {
        if (needsLearnedSwitch(cfg, counter)) {
          value = learnedValueFromBuffer(tf.scalar(buffer), cfg).dataSync()[0] ?? NaN;
          counter += 1;
        }
        const step = activationScaleStep(tf.tensor1d(b), cfg, { counter, buffer: tf.scalar(buffer), value: tf.scalar(value) }, true);
        scales.push(step.scale.dataSync()[0] ?? NaN);
        if (step.buffer !== undefined) buffer = step.buffer.dataSync()[0] ?? NaN;
        counter = step.counter;
      });
      const stat = f32(Math.max(...b.map(Math.abs)));
      if (i === 0) refBuffer = stat;
      else if (i < 3) refBuffer = f32(f32(refBuffer * f32(0.9)) + f32(f32(0.1) * stat));
    }
    expect(scales.slice(0, 3)).to.deep.equal([f32(2 / 8), f32(3 / 8), f32(f32(1.5) / 8)]);
    expect(buffer).to.equal(refBuffer);
    expect(value).to.equal(refBuffer);
    expect(counter).to.equal(4);
    expect(scales[3]).to.equal(f32(refBuffer / 8));
    // eval: learned phase uses |value|/T, collection phase buffer/T
    const ev = tf.tidy(() => activationScaleStep(tf.zeros([1]), cfg, { counter: 4, buffer: tf.scalar(99), value: tf.scalar(-2) }, false).scale.dataSync()[0]);
    expect(ev).to.equal(0.25);
    const ev2 = tf.tidy(() => activationScaleStep(tf.zeros([1]), cfg, { counter: 2, buffer: tf.scalar(4), value: tf.scalar(99) }, false).scale.dataSync()[0]);
    expect(ev2).to.equal(0.5);
  });

  it('learned phase: gradient of value is (1/T) sum G*(inside ? q - x/s : q); grad x = G*inside', () => {
    const cfg = actQuant('Int8ActPerTensorFloat', { bitWidth: 4, collectStatsSteps: 1 });
    const xs = [0.3, 1.7, -0.55, 2.5, -2.1];
    const G = [1, -2, 3, 0.5, 2];
    const [gx, gv] = tf.tidy(() => tf.grads((x: tf.Tensor, value: tf.Tensor) => {
      const step = activationScaleStep(x, cfg, { counter: 2, buffer: tf.scalar(1), value }, true);
      return tf.sum(tf.mul(fakeQuantize(x, { ...cfg, scale: step.scale, clampGrad: 'mask' }), tf.tensor1d(G)));
    })([tf.tensor1d(xs), tf.scalar(2)]).map((t) => Array.from(t.dataSync())));
    const s = 0.25;
    let want = 0;
    const wantX: number[] = [];
    xs.forEach((x, i) => {
      const y = f32(x / s);
      const r = roundHalfEven(y);
      const inside = r >= -8 && r <= 7;
      const q = Math.min(7, Math.max(-8, r));
      want += (G[i] ?? 0) * (inside ? q - y : q);
      wantX.push(inside ? (G[i] ?? 0) : 0);
    });
    expect(gv?.[0]).to.be.closeTo(want / 8, 1e-6);
    expect(gx).to.deep.equal(wantX);
  });

  it('collection phase: the arg-max input gets sign(x_m)/T * sum G*(inside ? q - x/s : q) on top of G*inside', () => {
    const cfg = actQuant('Int8ActPerTensorFloat', { bitWidth: 4 });
    const xs = [0.3, -1.7, 0.9, 2.0];
    const G = [1, 2, 3, 4];
    const gx = tf.tidy(() => Array.from(tf.grad((x: tf.Tensor) => {
      const step = activationScaleStep(x, cfg, { counter: 0, buffer: tf.scalar(1), value: tf.scalar(1) }, true);
      return tf.sum(tf.mul(fakeQuantize(x, { ...cfg, scale: step.scale, clampGrad: 'mask' }), tf.tensor1d(G)));
    })(tf.tensor1d(xs)).dataSync()));
    const s = 0.25; // 2.0 / 8
    let term = 0;
    const direct = xs.map((x, i) => {
      const y = f32(x / s);
      const r = roundHalfEven(y);
      const inside = r >= -8 && r <= 7;
      const q = Math.min(7, Math.max(-8, r));
      term += (G[i] ?? 0) * (inside ? q - y : q);
      return inside ? (G[i] ?? 0) : 0;
    });
    // max 2.0 maps to 8 and is clamped to 7: its direct term is 0
    expect(direct[3]).to.equal(0);
    const want = direct.map((d, i) => (i === 3 ? d + term / 8 : d));
    gx.forEach((g, i) => expect(g).to.be.closeTo(want[i] ?? NaN, 1e-6));
  });

  it('rejects bad configs with clear errors', () => {
    expect(() => actQuant('Int8ActPerTensorFloat', { collectStatsSteps: 0 })).to.throw(ConfigError, /collectStatsSteps must be a positive integer, got 0/);
    expect(() => actQuant('Int7Act')).to.throw(ConfigError, /actQuant must be one of 'Int8ActPerTensorFloat'/);
    expect(() => actQuant('Int8ActPerTensorFloat', { bitWidth: 17 })).to.throw(ConfigError, /bitWidth must be an integer in 1\.\.16, got 17/);
  });
});
