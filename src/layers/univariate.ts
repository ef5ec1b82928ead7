/**
 * Univariate: a float element-wise function between quantizers (relu, sigmoid, tanh, gelu, leakyRelu or any
 * registered function). The exporter turns it into part of a table lookup; it is serialized by name.
 */
import * as tf from '@tensorflow/tfjs';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import { ConfigError } from '../errors.js';
import { singleTensor } from './util.js';

/** An element-wise float function on tensors. */
export type UnivariateFn = (x: tf.Tensor) => tf.Tensor;

const registry = new Map<string, UnivariateFn>([
  ['relu', (x) => tf.relu(x)],
  ['sigmoid', (x) => tf.sigmoid(x)],
  ['tanh', (x) => tf.tanh(x)],
  ['gelu', (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2))))],
  ['leakyRelu', (x) => tf.leakyRelu(x, 0.01)],
  ['identity', (x) => x],
]);

/**
 * Register a univariate function under a name (so that models using it can be saved, loaded and exported).
 * @example registerUnivariate('swish', (x) => tf.mul(x, tf.sigmoid(x)))
 */
export function registerUnivariate(name: string, fn: UnivariateFn): void {
  if (typeof name !== 'string' || name.length === 0) throw new ConfigError('registerUnivariate: name must be a non-empty string');
  if (typeof fn !== 'function') throw new ConfigError(`registerUnivariate('${name}'): fn must be a function (x: tf.Tensor) => tf.Tensor`);
  registry.set(name, fn);
}

/** Look up a registered univariate function. @throws ConfigError naming the registered ones. */
export function getUnivariate(name: string): UnivariateFn {
  const key = [...registry.keys()].find((k) => k.toLowerCase().replace(/_/g, '') === name.toLowerCase().replace(/_/g, ''));
  const fn = key === undefined ? undefined : registry.get(key);
  if (fn === undefined) {
    throw new ConfigError(`unknown univariate function '${name}'; registered: ${[...registry.keys()].join(', ')}. Register it with registerUnivariate(name, fn)`);
  }
  return fn;
}

/** Names of the registered univariate functions. */
export function univariateNames(): string[] {
  return [...registry.keys()];
}

/** Options of Univariate. */
export interface UnivariateArgs extends LayerArgs {
  /** Registered function name. @default 'relu' */
  fn?: string;
}

/** A float element-wise activation, by registered name. */
export class Univariate extends tf.layers.Layer {
  static className = 'Univariate';
  readonly fnName: string;
  private readonly fn: UnivariateFn;

  constructor(args: UnivariateArgs = {}) {
    super(args);
    this.fn = getUnivariate(args.fn ?? 'relu');
    this.fnName = [...registry.entries()].find(([, f]) => f === this.fn)?.[0] ?? (args.fn ?? 'relu');
  }

  /** Apply the function to a tensor (used by the exporter to build tables). */
  apply1(x: tf.Tensor): tf.Tensor {
    return this.fn(x);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => this.fn(singleTensor(inputs, this.name)));
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), fn: this.fnName };
  }
}
tf.serialization.registerClass(Univariate);

/** Factory: `univariate({fn: 'sigmoid'})`. */
export function univariate(args: UnivariateArgs = {}): Univariate {
  return new Univariate(args);
}
