/**
 * Float univariate layers between quantizers: they join the pending chain and end up inside one TLU table
 * (Concrete ML's fusion). Dropout-like layers are the identity at inference and add nothing.
 */
import * as tf from '@tensorflow/tfjs';
import { UnsupportedLayerError } from '../../errors.js';
import { Univariate } from '../../layers/univariate.js';
import type { ChainOp } from '../tlu_table.js';
import type { ConverterEntry } from './types.js';

const CLEAR = new Set(['relu', 'sigmoid', 'tanh', 'softmax']);
const ELEMENTWISE_ACTIVATIONS = new Set(['relu', 'relu6', 'sigmoid', 'hardSigmoid', 'tanh', 'linear', 'elu', 'selu', 'softplus', 'softsign', 'swish', 'mish', 'gelu', 'gelu_new']);

function op(layer: tf.layers.Layer, fn: string | null, apply: (t: tf.Tensor) => tf.Tensor, extra: Partial<ChainOp> = {}): ChainOp {
  const clear = fn !== null && CLEAR.has(fn) ? (fn as ChainOp['clearName']) : undefined;
  return {
    layer: layer.name, kind: 'elementwise', shiftExact: fn === 'relu' || fn === 'identity' || fn === 'linear',
    ...(clear !== undefined ? { clearName: clear } : {}), apply, ...extra,
  };
}

const inference = (layer: tf.layers.Layer) => (t: tf.Tensor): tf.Tensor => layer.apply(t, { training: false }) as tf.Tensor;

/** Converter of Univariate (tfjs-qat's named float function). */
export const univariateConverter: ConverterEntry = {
  classNames: ['Univariate'],
  convert(layer, b) {
    if (!(layer instanceof Univariate)) throw new UnsupportedLayerError(`layer '${layer.name}' is not a Univariate`);
    b.pushOp(layer, op(layer, layer.fnName, (t) => layer.apply1(t)));
  },
};

/** Converter of tf.layers.activation: element-wise activations (softmax only as the very last layer). */
export const activationConverter: ConverterEntry = {
  classNames: ['Activation'],
  convert(layer, b) {
    const fn = String(layer.getConfig()['activation'] ?? '');
    if (fn === 'softmax') {
      b.pushOp(layer, op(layer, 'softmax', inference(layer), { univariate: false }));
      return;
    }
    if (!ELEMENTWISE_ACTIVATIONS.has(fn)) {
      throw new UnsupportedLayerError(`layer '${layer.name}' is an Activation '${fn}', which is not element-wise; use one of ${[...ELEMENTWISE_ACTIVATIONS].join(', ')} or a Univariate layer`);
    }
    b.pushOp(layer, op(layer, fn, inference(layer)));
  },
};

/** Converter of ReLU, LeakyReLU, ELU, ThresholdedReLU and Softmax layers. */
export const activationLayersConverter: ConverterEntry = {
  classNames: ['ReLU', 'LeakyReLU', 'ELU', 'ThresholdedReLU', 'Softmax'],
  convert(layer, b) {
    const cls = layer.getClassName();
    if (cls === 'Softmax') {
      b.pushOp(layer, op(layer, 'softmax', inference(layer), { univariate: false }));
      return;
    }
    const cfg = layer.getConfig();
    const plainRelu = cls === 'ReLU' && (cfg['maxValue'] === null || cfg['maxValue'] === undefined);
    b.pushOp(layer, op(layer, plainRelu ? 'relu' : null, inference(layer)));
  },
};

/** Converter of BatchNormalization in inference mode (per last-axis channel). */
export const batchNormConverter: ConverterEntry = {
  classNames: ['BatchNormalization'],
  convert(layer, b) {
    const c = b.current(layer);
    const axis = Number(layer.getConfig()['axis'] ?? -1);
    if (axis !== -1 && axis !== c.shape.length) {
      throw new UnsupportedLayerError(`layer '${layer.name}' (BatchNormalization) normalizes axis ${axis}; only the last axis (-1, channels last) is supported`);
    }
    const channels = c.shape[c.shape.length - 1] ?? 1;
    b.pushOp(layer, op(layer, null, inference(layer), { kind: 'perChannel', channels }));
  },
};

/** Dropout and noise layers: identity at inference. */
export const identityConverter: ConverterEntry = {
  classNames: ['Dropout', 'SpatialDropout1D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'InputLayer'],
  convert() {
    /* identity at inference */
  },
};
