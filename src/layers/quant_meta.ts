/**
 * QuantTensor metadata, after Brevitas: what integer grid a tensor flowing between layers lives on.
 * tfjs passes plain tensors between layers, so each quant layer that produces a quantized tensor
 * implements `QuantOutputProvider`, and a consumer finds its provider by walking inbound layers through
 * shape-only layers (Flatten, Reshape).
 */
import * as tf from '@tensorflow/tfjs';

/** The integer grid of a quantized tensor (Brevitas' QuantTensor without the value). */
export interface QuantMeta {
  /** Per-tensor scale (or one per channel for accumulators of per-channel weights). */
  readonly scale: number | readonly number[];
  /** @default 0 */
  readonly zeroPoint: number;
  readonly bitWidth: number;
  readonly signed: boolean;
  readonly narrowRange: boolean;
}

/** A layer whose output is a quantized tensor. */
export interface QuantOutputProvider {
  /** The eval-mode grid of the output (reads the quantizer state). */
  outputQuantMeta(): QuantMeta;
  /** The scale tensor used by the most recent forward (training or eval), or null before any forward. */
  lastOutputScale(): tf.Tensor | null;
  /** Bit width and signedness of the output grid (static). */
  outputGrid(): { bitWidth: number; signed: boolean; narrowRange: boolean };
}

/** Type guard for providers. */
export function isQuantOutputProvider(x: unknown): x is QuantOutputProvider & tf.layers.Layer {
  return typeof x === 'object' && x !== null && typeof (x as Partial<QuantOutputProvider>).outputQuantMeta === 'function' &&
    typeof (x as Partial<QuantOutputProvider>).lastOutputScale === 'function';
}

/** Class names of layers that only move or reshape values (the grid passes through them unchanged). */
export const PASSTHROUGH_LAYERS: ReadonlySet<string> = new Set(['Flatten', 'Reshape', 'InputLayer', 'Permute', 'Dropout']);

/** The single inbound layer of `layer` (its first call site), or null. */
export function inboundLayer(layer: tf.layers.Layer): tf.layers.Layer | null {
  const node = layer.inboundNodes[0];
  if (node === undefined) return null;
  if (node.inboundLayers.length !== 1) return null;
  return node.inboundLayers[0] ?? null;
}

/**
 * The quant provider feeding `layer`, walking back through passthrough layers; null when the input is float
 * (a float layer, a model input, or a branch).
 */
export function upstreamProvider(layer: tf.layers.Layer): (QuantOutputProvider & tf.layers.Layer) | null {
  let cur = inboundLayer(layer);
  const seen = new Set<tf.layers.Layer>();
  while (cur !== null && !seen.has(cur)) {
    seen.add(cur);
    if (isQuantOutputProvider(cur)) return cur;
    if (!PASSTHROUGH_LAYERS.has(cur.getClassName()) || cur.getClassName() === 'InputLayer') return null;
    cur = inboundLayer(cur);
  }
  return null;
}

/** Replace a kept tensor: dispose the old one, keep the new one. */
export function replaceKept(old: tf.Tensor | null, next: tf.Tensor): tf.Tensor {
  if (old !== null && old !== next && !old.isDisposed) old.dispose();
  return tf.keep(next);
}
