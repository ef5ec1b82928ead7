/**
 * The converter registry, filled from the one list in converters/index.ts. An unknown layer is an
 * UnsupportedLayerError naming the layer and what to use instead; nothing is ever skipped silently.
 */
import type * as tf from '@tensorflow/tfjs';
import { UnsupportedLayerError } from '../errors.js';
import { CONVERTERS, type Converter } from './converters/index.js';

const BY_CLASS = new Map<string, Converter>();
for (const entry of CONVERTERS) for (const cls of entry.classNames) BY_CLASS.set(cls, entry.convert);

const INSTEAD: Record<string, string> = {
  Dense: 'QuantLinear (quantLinear({units, weightBitWidth})) after a QuantIdentity',
  Conv2D: 'QuantConv2D (quantConv2D({filters, kernelSize, weightBitWidth})) after a QuantIdentity',
  Conv1D: 'a QuantConv2D on a [1, length, channels] input',
  DepthwiseConv2D: 'a QuantConv2D',
  SeparableConv2D: 'a QuantConv2D',
  MaxPooling2D: 'QuantAvgPool2D (max pooling is not supported in the circuit)',
  AveragePooling2D: 'QuantAvgPool2D after a QuantIdentity',
  GlobalAveragePooling2D: 'QuantAvgPool2D with poolSize equal to the feature map',
  GlobalMaxPooling2D: 'QuantAvgPool2D with poolSize equal to the feature map',
  Add: 'a single-branch model (adding two encrypted tensors is in the circuit format but not yet exported)',
  Concatenate: 'a single-branch model',
  Embedding: 'one-hot inputs and a QuantLinear',
  LSTM: 'a feed-forward model', GRU: 'a feed-forward model', SimpleRNN: 'a feed-forward model',
};

/** Class names with a converter. */
export function supportedLayerClasses(): string[] {
  return [...BY_CLASS.keys()];
}

/**
 * The converter of a layer.
 * @throws UnsupportedLayerError naming the layer, its class and what to use instead.
 */
export function getConverter(layer: tf.layers.Layer): Converter {
  const cls = layer.getClassName();
  const conv = BY_CLASS.get(cls);
  if (conv !== undefined) return conv;
  const hint = INSTEAD[cls];
  throw new UnsupportedLayerError(`layer '${layer.name}' (${cls}) cannot be exported to a circuit; ` +
    (hint !== undefined ? `use ${hint}` : `supported layers: ${supportedLayerClasses().join(', ')}`));
}
