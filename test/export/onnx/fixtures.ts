// Test models for the ONNX exporter: an MLP and a CNN built from tfjs-qat layers, trained briefly with
// optimizer.minimize(model.apply(x, {training: true})) so every quantizer holds real state.
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import * as ort from 'onnxruntime-node';
import {
  quantIdentity, quantReLU, quantLinear, quantConv2D, quantAvgPool2D, univariate,
  type WeightPresetName, type ActPresetName, type BiasPresetName, type ConvPadding, type TruncMode,
} from '../../../src/layers/index.js';

/** Seeded data: n samples of `shape`, labels from a fixed random linear rule (so training makes progress). */
export function makeData(n: number, shape: number[], classes: number, seed: string): { x: tf.Tensor; y: tf.Tensor; labels: number[] } {
  const rng = seedrandom(seed);
  const d = shape.reduce((a, b) => a * b, 1);
  const xs = new Float32Array(n * d);
  for (let i = 0; i < xs.length; i++) xs[i] = (rng() + rng() + rng() - 1.5) * 2;
  const w = Array.from({ length: d * classes }, () => rng() - 0.5);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestV = -Infinity;
    for (let c = 0; c < classes; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (xs[i * d + j] ?? 0) * (w[j * classes + c] ?? 0);
      if (s > bestV) {
        bestV = s;
        best = c;
      }
    }
    labels.push(best);
  }
  return { x: tf.tensor(xs, [n, ...shape]), y: tf.oneHot(tf.tensor1d(labels, 'int32'), classes).toFloat(), labels };
}

/** Train with the optimizer directly (training-mode forwards update quantizer statistics). */
export function train(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor, steps: number, batch = 64, lr = 0.01): void {
  const opt = tf.train.adam(lr);
  const n = x.shape[0] ?? 0;
  for (let s = 0; s < steps; s++) {
    const start = (s * batch) % Math.max(1, n - batch);
    tf.tidy(() => {
      const xb = tf.slice(x, start, batch);
      const yb = tf.slice(y, start, batch);
      opt.minimize(() => tf.losses.softmaxCrossEntropy(yb, model.apply(xb, { training: true }) as tf.Tensor) as tf.Scalar);
    });
  }
  opt.dispose();
}

/** Options of the MLP. */
export interface MlpVariant {
  weightQuant?: WeightPresetName;
  actQuant?: 'float' | 'pot';
  biasQuant?: BiasPresetName;
  hiddenAct?: string;
  inBits?: number;
}

/** QuantIdentity 8b -> QuantLinear w4 -> relu -> QuantIdentity 4b -> QuantLinear w8. */
export function makeMlp(features: number, classes: number, v: MlpVariant = {}): tf.Sequential {
  const signedAct: ActPresetName = v.actQuant === 'pot' ? 'Int8ActPerTensorPoT' : 'Int8ActPerTensorFloat';
  const wq: WeightPresetName = v.weightQuant ?? (v.actQuant === 'pot' ? 'Int8WeightPerTensorPoT' : 'Int8WeightPerTensorFloat');
  const bq: BiasPresetName = v.biasQuant ?? 'none';
  const init = (seed: number): ReturnType<typeof tf.initializers.glorotUniform> => tf.initializers.glorotUniform({ seed });
  const m = tf.sequential();
  m.add(quantIdentity({ inputShape: [features], bitWidth: v.inBits ?? 8, actQuant: signedAct, name: 'q_in' }));
  m.add(quantLinear({ units: 16, weightBitWidth: 4, weightQuant: wq, biasQuant: bq, kernelInitializer: init(1), biasInitializer: 'zeros', name: 'fc1' }));
  m.add(univariate({ fn: v.hiddenAct ?? 'relu', name: 'act1' }));
  m.add(quantIdentity({ bitWidth: 4, actQuant: signedAct, collectStatsSteps: 10, name: 'q_hidden' }));
  m.add(quantLinear({ units: classes, weightBitWidth: 8, weightQuant: wq, biasQuant: bq, kernelInitializer: init(2), name: 'fc2' }));
  return m;
}

/** Options of the CNN. */
export interface CnnVariant {
  pad1?: ConvPadding;
  stride1?: number;
  pad2?: ConvPadding;
  stride2?: number;
  weightQuant?: WeightPresetName;
  biasQuant?: BiasPresetName;
  truncMode?: TruncMode;
  reluBits?: number;
}

/** QuantIdentity -> QuantConv2D -> QuantReLU -> QuantConv2D -> QuantReLU -> QuantAvgPool2D -> flatten -> QuantIdentity -> QuantLinear. */
export function makeCnn(hw: number, cin: number, classes: number, v: CnnVariant = {}): tf.Sequential {
  const wq = v.weightQuant ?? 'Int8WeightPerTensorFloat';
  const bq = v.biasQuant ?? 'none';
  const init = (seed: number): ReturnType<typeof tf.initializers.glorotUniform> => tf.initializers.glorotUniform({ seed });
  const m = tf.sequential();
  m.add(quantIdentity({ inputShape: [hw, hw, cin], bitWidth: 8, name: 'q_in' }));
  m.add(quantConv2D({ filters: 4, kernelSize: 3, padding: v.pad1 ?? 'same', strides: v.stride1 ?? 1, weightBitWidth: 4, weightQuant: wq, biasQuant: bq, kernelInitializer: init(3), name: 'conv1' }));
  m.add(quantReLU({ bitWidth: v.reluBits ?? 4, collectStatsSteps: 10, name: 'relu1' }));
  m.add(quantConv2D({ filters: 6, kernelSize: 3, padding: v.pad2 ?? 'valid', strides: v.stride2 ?? 2, weightBitWidth: 4, weightQuant: wq, biasQuant: bq, kernelInitializer: init(4), name: 'conv2' }));
  m.add(quantReLU({ bitWidth: 8, name: 'relu2' }));
  m.add(quantAvgPool2D({ poolSize: 2, truncMode: v.truncMode ?? 'round', name: 'pool' }));
  m.add(tf.layers.flatten({ name: 'flat' }));
  m.add(quantIdentity({ bitWidth: 6, name: 'q_flat' }));
  m.add(quantLinear({ units: classes, weightBitWidth: 6, weightQuant: wq, biasQuant: bq, kernelInitializer: init(5), name: 'fc' }));
  return m;
}

/** NHWC -> NCHW copy of a rank-4 tensor's data. */
export function nhwcToNchw(data: Float32Array, [n, h, w, c]: number[]): Float32Array {
  const out = new Float32Array(data.length);
  const N = n ?? 0, H = h ?? 0, W = w ?? 0, C = c ?? 0;
  for (let b = 0; b < N; b++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let k = 0; k < C; k++) {
    out[((b * C + k) * H + y) * W + x] = data[((b * H + y) * W + x) * C + k] ?? 0;
  }
  return out;
}

/** Run a model in onnxruntime; returns the first output's data. */
export async function runOrt(bytes: Uint8Array, inputs: Record<string, { data: Float32Array; dims: number[] }>, opts: ort.InferenceSession.SessionOptions = {}): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3, ...opts });
  const feeds: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(inputs)) feeds[k] = new ort.Tensor('float32', v.data, v.dims);
  const res = await session.run(feeds);
  const out: Record<string, Float32Array> = {};
  for (const [k, t] of Object.entries(res)) out[k] = t.data as Float32Array;
  await session.release();
  return out;
}

/**
 * Normwise relative difference max|a-b| / max|b| (summation order makes element-wise relative errors of outputs
 * near 0 meaningless) and the number of rows of `classes` whose argmax differs.
 */
export function compare(a: Float32Array, b: Float32Array, classes: number): { maxRel: number; argmaxDiff: number } {
  let maxDiff = 0;
  let maxRef = 0;
  if (a.length !== b.length) return { maxRel: Infinity, argmaxDiff: b.length / classes };
  for (let i = 0; i < b.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs((a[i] ?? NaN) - (b[i] ?? NaN)));
    maxRef = Math.max(maxRef, Math.abs(b[i] ?? 0));
  }
  let argmaxDiff = 0;
  for (let r = 0; r < b.length / classes; r++) {
    let ia = 0, ib = 0;
    for (let c = 1; c < classes; c++) {
      if ((a[r * classes + c] ?? -Infinity) > (a[r * classes + ia] ?? -Infinity)) ia = c;
      if ((b[r * classes + c] ?? -Infinity) > (b[r * classes + ib] ?? -Infinity)) ib = c;
    }
    if (ia !== ib) argmaxDiff++;
  }
  return { maxRel: Number.isNaN(maxDiff) ? Infinity : maxDiff / Math.max(maxRef, 1e-30), argmaxDiff };
}
