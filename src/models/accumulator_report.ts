/** Worst-case accumulator bit widths of a trained model's quantized linear/conv layers (for reports and the CLI). */
import type * as tf from '@tensorflow/tfjs';
import { upstreamProvider } from '../layers/index.js';

/** One layer's figures. */
export interface AccumulatorReport {
  readonly layer: string;
  /** Input bits (from the upstream quantizer). */
  readonly inputBits: number;
  readonly weightBits: number;
  /** Largest number of non-zero weights of any output neuron. */
  readonly activeFanIn: number;
  /** ceil(log2((2^in - 1)(2^w - 1) activeFanIn)). */
  readonly accumulatorBits: number;
}

interface AccLayer {
  readonly name: string;
  readonly weightBitWidth: number;
  activeFanIn(): number;
  worstCaseAccumulatorBitWidth(inputBitWidth: number): number;
}

function isAccLayer(l: unknown): l is AccLayer & tf.layers.Layer {
  return typeof (l as Partial<AccLayer>).worstCaseAccumulatorBitWidth === 'function' && typeof (l as Partial<AccLayer>).activeFanIn === 'function';
}

/**
 * Per-layer worst-case accumulator widths; the model's figure is the max over layers.
 * @example Math.max(...accumulatorReport(net.model).map((r) => r.accumulatorBits))
 */
export function accumulatorReport(model: tf.LayersModel): AccumulatorReport[] {
  const out: AccumulatorReport[] = [];
  for (const layer of model.layers) {
    if (!isAccLayer(layer)) continue;
    const up = upstreamProvider(layer);
    const inputBits = up === null ? 32 : up.outputGrid().bitWidth;
    out.push({ layer: layer.name, inputBits, weightBits: layer.weightBitWidth, activeFanIn: layer.activeFanIn(), accumulatorBits: layer.worstCaseAccumulatorBitWidth(inputBits) });
  }
  return out;
}
