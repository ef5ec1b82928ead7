/** Small helpers shared by the layers. */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';

/** The one input tensor of a single-input layer. @throws ConfigError when given several. */
export function singleTensor(inputs: tf.Tensor | tf.Tensor[], layerName: string): tf.Tensor {
  if (Array.isArray(inputs)) {
    if (inputs.length !== 1 || inputs[0] === undefined) {
      throw new ConfigError(`${layerName} expects exactly one input tensor, got ${inputs.length}`);
    }
    return inputs[0];
  }
  return inputs;
}

/** The one input shape of a single-input layer. */
export function singleShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
  if (Array.isArray(inputShape[0])) return inputShape[0] as tf.Shape;
  return inputShape as tf.Shape;
}
