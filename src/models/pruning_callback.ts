/**
 * PruningCallback: keeps EVERY output neuron's fan-in <= maxActiveNeurons, so each neuron's worst-case
 * accumulator fits the bit budget (Concrete ML only meets it on average: it prunes a count over the whole matrix).
 * Per neuron, the largest-magnitude weights are kept; the selection is made at train begin and re-made at every
 * epoch end from the current weights; pruned weights are masked through `setWeightMask` (they quantize to 0 and get
 * no gradient). At train end the pruning is made permanent: pruned kernel entries are set to 0 (the mask stays).
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import type { Callback, TrainingContext } from '../training/callback.js';

/** A layer with a maskable kernel (QuantLinear, QuantConv2D). */
export interface MaskableLayer {
  readonly name: string;
  setWeightMask(mask: tf.Tensor | null): void;
  getWeightMask(): tf.Tensor | null;
  fanIn(): number;
  getWeights(): tf.Tensor[];
  setWeights(w: tf.Tensor[]): void;
}

/** Whether a layer supports pruning masks. */
export function isMaskable(layer: unknown): layer is MaskableLayer {
  const l = layer as Partial<MaskableLayer> | null;
  return l !== null && typeof l === 'object' && typeof l.setWeightMask === 'function' && typeof l.getWeightMask === 'function' && typeof l.fanIn === 'function';
}

/**
 * Per-output-neuron top-k mask of a kernel `[..., units]` (fan-in = product of the leading axes), by |w|.
 * Ties keep the lower index. Returns a 0/1 Float32Array in the kernel's layout.
 */
export function topKPerNeuronMask(kernel: Float32Array, fanIn: number, units: number, k: number): Float32Array {
  const mask = new Float32Array(kernel.length);
  if (k >= fanIn) return mask.fill(1);
  const idx = new Int32Array(fanIn);
  for (let u = 0; u < units; u++) {
    for (let i = 0; i < fanIn; i++) idx[i] = i;
    const mag = (i: number): number => Math.abs(kernel[i * units + u] ?? 0);
    idx.sort((a, b) => mag(b) - mag(a) || a - b);
    for (let j = 0; j < k; j++) mask[(idx[j] as number) * units + u] = 1;
  }
  return mask;
}

/** PruningCallback options. */
export interface PruningCallbackOptions {
  /** Largest number of non-zero weights per output neuron (see `maxActiveNeurons`). */
  maxActiveNeurons: number;
  /** Re-select the kept weights at each epoch end. @default true */
  reselectEachEpoch?: boolean;
}

/** Enforces a per-neuron fan-in budget during training. */
export class PruningCallback implements Callback {
  maxActiveNeurons: number;
  reselectEachEpoch: boolean;

  constructor(options: PruningCallbackOptions) {
    if (!Number.isInteger(options.maxActiveNeurons) || options.maxActiveNeurons < 1) {
      throw new ConfigError(`PruningCallback: maxActiveNeurons must be a positive integer; got ${String(options.maxActiveNeurons)}`);
    }
    this.maxActiveNeurons = options.maxActiveNeurons;
    this.reselectEachEpoch = options.reselectEachEpoch ?? true;
  }

  /** Select and set the masks of every maskable layer whose fan-in exceeds the budget. Returns the pruned layer names. */
  applyMasks(model: tf.LayersModel): string[] {
    const pruned: string[] = [];
    for (const layer of model.layers) {
      if (!isMaskable(layer) || layer.fanIn() <= this.maxActiveNeurons) continue;
      const kernelT = layer.getWeights()[0];
      if (kernelT === undefined) continue;
      const shape = kernelT.shape;
      const units = shape[shape.length - 1] ?? 1;
      const kernel = kernelT.dataSync() as Float32Array;
      const m = topKPerNeuronMask(kernel, layer.fanIn(), units, this.maxActiveNeurons);
      // inside tidy: setWeightMask keeps its own copy; tidy frees any intermediate it creates
      tf.tidy(() => { layer.setWeightMask(tf.tensor(m, shape)); });
      pruned.push(layer.name);
    }
    return pruned;
  }

  /** Set pruned kernel entries to 0 (the masks stay, so later training keeps them at 0). */
  makePermanent(model: tf.LayersModel): void {
    for (const layer of model.layers) {
      if (!isMaskable(layer)) continue;
      const mask = layer.getWeightMask();
      if (mask === null) continue;
      const ws = layer.getWeights();
      const k = ws[0];
      if (k === undefined) continue;
      const masked = tf.mul(k, mask);
      layer.setWeights([masked, ...ws.slice(1)]);
      masked.dispose();
    }
  }

  onTrainBegin(ctx: TrainingContext): void {
    this.applyMasks(ctx.model);
  }

  onEpochEnd(ctx: TrainingContext): void {
    if (this.reselectEachEpoch) this.applyMasks(ctx.model);
  }

  onTrainEnd(ctx: TrainingContext): void {
    this.makePermanent(ctx.model);
  }
}
