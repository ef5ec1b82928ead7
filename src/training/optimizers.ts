/**
 * Optimizer construction from a name (skorch `optimizer` + `lr` + `optimizer__*`) and learning-rate access
 * for schedulers.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import { unknownKeyError } from './params.js';
import { FusedAdam } from './fused_adam.js';

/** Built-in optimizer names. */
export type OptimizerName = 'adam' | 'sgd' | 'momentum' | 'rmsprop' | 'adagrad' | 'adamax';

/** An optimizer by name, a tfjs optimizer instance (used as is, state included), or a factory of one. */
export type OptimizerSpec = OptimizerName | tf.Optimizer | ((lr: number) => tf.Optimizer);

/** Options each named optimizer accepts via `optimizer__<key>`. */
export const OPTIMIZER_OPTIONS: Readonly<Record<OptimizerName, readonly string[]>> = {
  adam: ['beta1', 'beta2', 'epsilon'],
  adamax: ['beta1', 'beta2', 'epsilon', 'decay'],
  sgd: [],
  momentum: ['momentum', 'useNesterov'],
  rmsprop: ['decay', 'momentum', 'epsilon', 'centered'],
  adagrad: ['initialAccumulatorValue'],
};

function num(opts: Readonly<Record<string, unknown>>, key: string, dflt: number): number {
  const v = opts[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`optimizer__${key} must be a finite number; got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Build the optimizer. 'adam' is a FusedAdam (same numbers and state as tf.train.adam, one kernel per variable).
 * @throws ConfigError on an unknown name or option.
 * @example makeOptimizer('adam', 0.01, { beta1: 0.9 })
 */
export function makeOptimizer(spec: OptimizerSpec, lr: number, opts: Readonly<Record<string, unknown>> = {}): tf.Optimizer {
  if (spec instanceof tf.Optimizer) return spec;
  if (typeof spec === 'function') return spec(lr);
  const valid = OPTIMIZER_OPTIONS[spec];
  if (valid === undefined) {
    throw new ConfigError(`optimizer: unknown name '${String(spec)}'; use one of ${Object.keys(OPTIMIZER_OPTIONS).join(', ')} or pass a tf.Optimizer`);
  }
  for (const k of Object.keys(opts)) if (!valid.includes(k)) throw unknownKeyError(`optimizer__${k}`, valid.map((v) => `optimizer__${v}`), `optimizer '${spec}'`);
  switch (spec) {
    case 'adam': return new FusedAdam(lr, num(opts, 'beta1', 0.9), num(opts, 'beta2', 0.999), num(opts, 'epsilon', 1e-8));
    case 'adamax': return tf.train.adamax(lr, num(opts, 'beta1', 0.9), num(opts, 'beta2', 0.999), num(opts, 'epsilon', 1e-8), num(opts, 'decay', 0));
    case 'sgd': return tf.train.sgd(lr);
    case 'momentum': return tf.train.momentum(lr, num(opts, 'momentum', 0.9), opts['useNesterov'] === true);
    case 'rmsprop': return tf.train.rmsprop(lr, num(opts, 'decay', 0.9), num(opts, 'momentum', 0), num(opts, 'epsilon', 1e-8), opts['centered'] === true);
    case 'adagrad': return tf.train.adagrad(lr, num(opts, 'initialAccumulatorValue', 0.1));
    default: {
      const never: never = spec;
      throw new ConfigError(`optimizer: unknown name '${String(never)}'`);
    }
  }
}

/** The optimizer's current learning rate (tfjs keeps it in a protected `learningRate` field). */
export function getLearningRate(opt: tf.Optimizer): number {
  const v = (opt as unknown as { learningRate?: unknown }).learningRate;
  if (typeof v !== 'number') throw new ConfigError(`this optimizer (${opt.getClassName()}) has no numeric learningRate to read or schedule`);
  return v;
}

/** Change the learning rate in place; the next step uses it. */
export function setLearningRate(opt: tf.Optimizer, lr: number): void {
  getLearningRate(opt);
  (opt as unknown as { learningRate: number }).learningRate = lr;
}
