/** Structured pruning of a fitted estimator through its module's `structuredPrune` plan (Concrete ML `prune`). */
import { ConfigError } from '../errors.js';
import type { FeatureInput, TargetInput } from './data.js';
import type { NeuralNet } from './net.js';
import { paramsFor } from './params.js';

/**
 * A new estimator with `fraction` of every hidden layer's neurons removed (largest L2 norms kept), initialized from
 * `net`'s weights and fine-tuned on (X, y) with `warmStart`; `fitParams` override parameters (e.g. maxEpochs).
 * @throws ConfigError when the module has no `structuredPrune`.
 */
export async function pruneEstimator<N extends NeuralNet<unknown>>(net: N, X: FeatureInput, y: TargetInput, fraction: number,
  fitParams: Readonly<Record<string, unknown>>): Promise<N> {
  const params = net.getParams();
  const model = net.model;
  const factory = net.currentModule();
  if (factory.structuredPrune === undefined) throw new ConfigError('prune: this module does not support structured pruning (no structuredPrune on the module factory)');
  const plan = factory.structuredPrune(model, fraction, paramsFor(params, 'module'));
  const next = net.clone();
  const moduleParams = Object.fromEntries(Object.entries(plan.moduleParams).map(([k, v]) => [`module__${k}`, v]));
  next.setParams({ ...moduleParams, ...fitParams, warmStart: true });
  next.setFittedMeta(net.getFittedMeta());
  next.initialize({ inputShape: net.sampleShape_ ?? [], nOutputs: net.nOutputs_ ?? 0 });
  plan.copyWeights(model, next.model);
  await next.fit(X, y);
  return next;
}
