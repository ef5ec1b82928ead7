/**
 * How a model's variables map between threads: `model.weights` order is the wire order, and the trainable
 * variables are taken in the estimator's optimizer order (layer by layer, each layer's trainable weights).
 */
import type * as tf from '@tensorflow/tfjs';

/** Indices into `model.weights` of the trainable variables, in the order NeuralNet hands them to the optimizer. */
export function trainableOrder(model: tf.LayersModel): number[] {
  const all = model.weights.map((w) => w.read());
  const out: number[] = [];
  for (const layer of model.layers) {
    for (const w of layer.trainableWeights) {
      const i = all.indexOf(w.read());
      if (i < 0) throw new Error(`trainable weight ${w.name} of layer ${layer.name} is not in model.weights`);
      out.push(i);
    }
  }
  return out;
}
