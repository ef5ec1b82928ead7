// Shared by the export tests: small models built from our layers, trained briefly so quantizer statistics are real.
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { quantIdentity, quantLinear, quantConv2D, quantAvgPool2D, quantReLU, univariate } from '../../src/layers/index.js';
import type { WeightPresetName, ActPresetName, BiasPresetName } from '../../src/quant/presets.js';

export interface MlpSpec {
  inputDim: number;
  hidden: number[];
  nOutputs: number;
  wBits?: number;
  aBits?: number;
  pot?: boolean;
  bias?: BiasPresetName;
  activation?: string;
  weightQuant?: WeightPresetName;
  collectStatsSteps?: number;
}

/** QuantIdentity -> [QuantLinear -> act -> QuantIdentity]* -> QuantLinear. */
export function buildMlp(s: MlpSpec, seed = 1): tf.Sequential {
  const rng = seedrandom(String(seed));
  const init = () => tf.initializers.glorotUniform({ seed: Math.floor(rng() * 1e6) });
  const pot = s.pot ?? false;
  const act: ActPresetName = pot ? 'Int8ActPerTensorPoT' : 'Int8ActPerTensorFloat';
  const wq: WeightPresetName = s.weightQuant ?? (pot ? 'Int8WeightPerTensorPoT' : 'Int8WeightPerTensorFloat');
  const m = tf.sequential();
  const widths = [...s.hidden, s.nOutputs];
  widths.forEach((units, i) => {
    m.add(quantIdentity({ ...(i === 0 ? { inputShape: [s.inputDim] } : {}), bitWidth: s.aBits ?? 4, actQuant: act, collectStatsSteps: s.collectStatsSteps ?? 5 }));
    m.add(quantLinear({ units, weightBitWidth: s.wBits ?? 4, weightQuant: wq, biasQuant: s.bias ?? (pot ? 'Int32Bias' : 'none'), kernelInitializer: init(), biasInitializer: 'zeros' }));
    if (i < widths.length - 1) m.add(univariate({ fn: s.activation ?? 'relu' }));
  });
  return m;
}

/** QuantIdentity -> QuantConv2D -> ReLU -> QuantIdentity -> QuantAvgPool2D -> QuantConv2D -> QuantReLU -> Flatten -> QuantLinear. */
export function buildCnn(inputShape: [number, number, number], nOutputs: number, seed = 1, bits = 4): tf.Sequential {
  const rng = seedrandom(String(seed));
  const init = () => tf.initializers.glorotUniform({ seed: Math.floor(rng() * 1e6) });
  const m = tf.sequential();
  m.add(quantIdentity({ inputShape, bitWidth: bits, collectStatsSteps: 5 }));
  m.add(quantConv2D({ filters: 4, kernelSize: 3, weightBitWidth: bits, kernelInitializer: init(), padding: 1 }));
  m.add(univariate({ fn: 'relu' }));
  m.add(quantIdentity({ bitWidth: bits, collectStatsSteps: 5 }));
  m.add(quantAvgPool2D({ poolSize: 2 }));
  m.add(quantConv2D({ filters: 6, kernelSize: 3, strides: 2, weightBitWidth: bits, kernelInitializer: init(), padding: 'same' }));
  m.add(quantReLU({ bitWidth: bits, collectStatsSteps: 5 }));
  m.add(tf.layers.flatten());
  m.add(quantLinear({ units: nOutputs, weightBitWidth: bits, kernelInitializer: init() }));
  return m;
}

/** Train with optimizer.minimize over model.apply(x, {training: true}) (softmax cross-entropy or MSE). */
export function trainBriefly(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor, steps: number, lr = 0.01, task: 'classification' | 'regression' = 'classification'): void {
  const opt = tf.train.adam(lr);
  const n = x.shape[0] ?? 0;
  const bs = Math.min(64, n);
  for (let s = 0; s < steps; s++) {
    const start = (s * bs) % Math.max(1, n - bs + 1);
    tf.tidy(() => {
      const xb = tf.slice(x, start, bs);
      const yb = tf.slice(y, start, bs);
      opt.minimize(() => {
        const out = model.apply(xb, { training: true }) as tf.Tensor;
        return (task === 'classification' ? tf.losses.softmaxCrossEntropy(yb, out) : tf.losses.meanSquaredError(yb, out)) as tf.Scalar;
      });
    });
  }
  opt.dispose();
}

/** Gaussian blobs: n samples, dim features, k classes (seeded). */
export function blobs(n: number, dim: number, k: number, seed = 3): { x: number[][]; y: number[] } {
  const rng = seedrandom(String(seed));
  const gauss = (): number => Math.sqrt(-2 * Math.log(rng() + 1e-12)) * Math.cos(2 * Math.PI * rng());
  const centers = Array.from({ length: k }, () => Array.from({ length: dim }, () => 2 * gauss()));
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % k;
    x.push((centers[c] as number[]).map((m) => m + gauss()));
    y.push(c);
  }
  return { x, y };
}

/** Model predictions (eval mode) and raw outputs. */
export function modelOutputs(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  const out = tf.tidy(() => model.predict(x) as tf.Tensor);
  const d = Float32Array.from(out.dataSync());
  out.dispose();
  return d;
}
