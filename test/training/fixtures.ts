// Shared fixtures for the training tests: a plain tf.layers MLP module and small synthetic datasets.
import * as tf from '@tensorflow/tfjs';
import type { ModuleFactory } from '../../src/training/index.js';
import { makeRng } from '../../src/training/rng.js';

/** Dense MLP: inputDim -> hidden (relu) -> nOutputs. */
export const denseMlp: ModuleFactory = Object.assign((p: { inputShape: number[]; nOutputs: number; [k: string]: unknown }) => {
  const hidden = typeof p['hidden'] === 'number' ? p['hidden'] : 16;
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: p.inputShape, units: hidden, activation: 'relu' }));
  if (p['dropout'] === true) m.add(tf.layers.dropout({ rate: 0.2 }));
  m.add(tf.layers.dense({ units: p.nOutputs }));
  return m;
}, { paramNames: ['hidden', 'dropout'] });

/** Two Gaussian blobs per class in 4-D, separable; labels from `names`. */
export function blobs<L>(n: number, names: readonly L[], seed = 1): { X: number[][]; y: L[] } {
  const rng = makeRng(seed);
  const X: number[][] = [];
  const y: L[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % names.length;
    X.push([0, 1, 2, 3].map((j) => (j === c % 4 ? 3 : 0) + (rng() - 0.5) * 1.5));
    y.push(names[c] as L);
  }
  return { X, y };
}

/** y = 2 x0 - x1 + 10 + noise. */
export function linear(n: number, seed = 2): { X: number[][]; y: number[] } {
  const rng = makeRng(seed);
  const X: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = [rng() * 2 - 1, rng() * 2 - 1, rng() * 2 - 1];
    X.push(r);
    y.push(2 * (r[0] ?? 0) - (r[1] ?? 0) + 10 + (rng() - 0.5) * 0.1);
  }
  return { X, y };
}
