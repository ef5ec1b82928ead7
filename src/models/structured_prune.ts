/**
 * Structured pruning (Concrete ML `prune` with `ln_structured(n=2)`): remove whole hidden neurons of a
 * SparseQuantNeuralNetwork, keeping those with the largest L2 norm of incoming (masked) weights.
 * The plan gives the narrower module parameters and copies the kept weights into the rebuilt model.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import type { StructuredPrunePlan } from '../training/net_options.js';
import { isMaskable, type MaskableLayer } from './pruning_callback.js';

function linearLayers(model: tf.LayersModel): Array<MaskableLayer & tf.layers.Layer> {
  return model.layers.filter((l): l is MaskableLayer & tf.layers.Layer => isMaskable(l) && (l.getWeights()[0]?.rank ?? 0) === 2);
}

/** Indices (ascending) of the `keep` columns of `kernel` [in, units] with the largest L2 norm. */
export function keptNeurons(kernel: tf.Tensor, mask: tf.Tensor | null, keep: number): number[] {
  const norms = tf.tidy(() => {
    const k = mask === null ? kernel : tf.mul(kernel, mask);
    return tf.sqrt(tf.sum(tf.square(k), 0));
  });
  const v = Array.from(norms.dataSync());
  norms.dispose();
  const order = v.map((n, i) => [n, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  return order.slice(0, keep).map(([, i]) => i).sort((a, b) => a - b);
}

function take2d(t: tf.Tensor, rows: number[] | null, cols: number[] | null): tf.Tensor {
  return tf.tidy(() => {
    let x = tf.clone(t);
    if (rows !== null) x = tf.gather(x, rows, 0);
    if (cols !== null) x = tf.gather(x, cols, x.rank - 1);
    return x;
  });
}

/**
 * Plan the removal of `fraction` of every hidden layer's neurons.
 * @throws ConfigError when fraction is outside [0, 1) or the model has no hidden QuantLinear layer.
 */
export function structuredPrunePlan(model: tf.LayersModel, fraction: number, moduleParams: Readonly<Record<string, unknown>>): StructuredPrunePlan {
  if (typeof fraction !== 'number' || !(fraction >= 0 && fraction < 1)) {
    throw new ConfigError(`prune: fraction must be in [0, 1); got ${JSON.stringify(fraction)}`);
  }
  const linears = linearLayers(model);
  if (linears.length < 2) throw new ConfigError('prune: the model has no hidden layer to prune (nLayers must be >= 2)');
  const kept: number[][] = linears.slice(0, -1).map((layer) => {
    const kernel = layer.getWeights()[0] as tf.Tensor;
    const units = kernel.shape[1] ?? 1;
    return keptNeurons(kernel, layer.getWeightMask(), Math.max(1, units - Math.round(units * fraction)));
  });
  return {
    moduleParams: { ...moduleParams, nHiddenNeurons: kept.map((k) => k.length), nPruneNeuronsPercentage: 0 },
    copyWeights(src: tf.LayersModel, dst: tf.LayersModel): void {
      if (src.layers.length !== dst.layers.length) throw new ConfigError('prune: the rebuilt model has a different layer structure');
      let li = 0;
      src.layers.forEach((sl, i) => {
        const dl = dst.layers[i] as tf.layers.Layer;
        if (!linears.includes(sl as MaskableLayer & tf.layers.Layer)) {
          dl.setWeights(sl.getWeights());
          return;
        }
        const rows = li === 0 ? null : (kept[li - 1] ?? null);
        const cols = li < kept.length ? (kept[li] ?? null) : null;
        const [k, b] = sl.getWeights();
        const nk = take2d(k as tf.Tensor, rows, cols);
        const nb = b === undefined ? [] : [take2d(b, null, cols)];
        dl.setWeights([nk, ...nb]);
        const mask = (sl as unknown as MaskableLayer).getWeightMask();
        if (mask !== null && isMaskable(dl)) {
          tf.tidy(() => { dl.setWeightMask(take2d(mask, rows, cols)); });
        }
        tf.dispose([nk, ...nb]);
        li++;
      });
    },
  };
}
