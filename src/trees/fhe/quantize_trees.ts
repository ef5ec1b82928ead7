/**
 * Integer tree ensembles, after Concrete ML (`sklearn/tree_to_numpy.py`): thresholds become integers (floor for
 * `<=`, ceil for `<`, exact for integer inputs) and leaves are quantized symmetric signed with zero point 0
 * (`op_leaves`). The result is again a {@link TreeEnsemble} whose thresholds and leaf values are integers, plus the
 * leaf scale.
 */
import { ConfigError } from '../../errors.js';
import { createTreeEnsemble, isLeaf, type TreeEnsemble } from '../tree_ir.js';

/** An ensemble with integer thresholds and leaves; real output = integer output × `leafScale` (before aggregation). */
export interface QuantizedTreeEnsemble {
  /** Integer ensemble (thresholds, leaf values are integers). Metadata as in the float ensemble. */
  readonly ensemble: TreeEnsemble;
  /** Bits of the (unsigned) integer inputs. */
  readonly inputBits: number;
  /** Bits of the signed leaf values. */
  readonly leafBits: number;
  /** Real value of one leaf unit. */
  readonly leafScale: number;
}

/**
 * Quantize an ensemble trained on `inputBits`-bit integer features.
 * @example const q = quantizeEnsemble(ensemble, {inputBits: 6, leafBits: 6});
 */
export function quantizeEnsemble(e: TreeEnsemble, options: { inputBits: number; leafBits: number }): QuantizedTreeEnsemble {
  const { inputBits, leafBits } = options;
  if (!Number.isInteger(leafBits) || leafBits < 2 || leafBits > 16) throw new ConfigError(`leafBits must be an integer in [2, 16], received ${leafBits}.`);
  if (!Number.isInteger(inputBits) || inputBits < 1 || inputBits > 16) throw new ConfigError(`inputBits must be an integer in [1, 16], received ${inputBits}.`);
  const qmax = 2 ** (leafBits - 1) - 1;
  let maxAbs = 0;
  for (const t of e.trees) t.values.forEach((v, i) => { if (isLeaf(t, i)) for (const x of v) maxAbs = Math.max(maxAbs, Math.abs(x)); });
  const leafScale = maxAbs > 0 ? maxAbs / qmax : 1;
  const top = 2 ** inputBits;
  const intThreshold = (t: number): number => (e.splitRule === '<'
    ? Math.min(top, Math.max(0, Math.ceil(t)))
    : Math.min(top - 1, Math.max(-1, Math.floor(t))));
  const trees = e.trees.map((t) => ({
    lefts: t.lefts, rights: t.rights, features: t.features,
    thresholds: t.thresholds.map((th, i) => (isLeaf(t, i) ? 0 : intThreshold(th))),
    values: t.values.map((v, i) => (isLeaf(t, i) ? v.map((x) => Math.round(x / leafScale)) : v.map(() => 0))),
  }));
  const ensemble = createTreeEnsemble({ ...e, compareDtype: 'float32', trees, source: `${e.source} (quantized ${inputBits}/${leafBits} bits)` });
  return { ensemble, inputBits, leafBits, leafScale };
}

/** Integer output of every tree for integer rows, by plain traversal (the quantized model's reference): `[rows][trees][outputs]`. */
export function traverseIntegerTrees(e: TreeEnsemble, xq: readonly (readonly number[])[]): number[][][] {
  return xq.map((row) => e.trees.map((t) => {
    let n = 0;
    while (!isLeaf(t, n)) {
      const x = row[t.features[n] as number] as number;
      const th = t.thresholds[n] as number;
      n = (e.splitRule === '<' ? x < th : x <= th) ? (t.lefts[n] as number) : (t.rights[n] as number);
    }
    return [...(t.values[n] as number[])];
  }));
}
