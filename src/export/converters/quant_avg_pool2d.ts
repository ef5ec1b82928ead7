/**
 * QuantAvgPool2D -> an exact integer sumPool node, then a TLU that applies Brevitas' truncation
 * q = clamp(round(sum / ts)) (or floor); with round mode and ts = 2^k >= 2 the TLU input is shifted exactly.
 */
import * as tf from '@tensorflow/tfjs';
import { UnsupportedLayerError } from '../../errors.js';
import { bitsForRange, intRange } from '../../quant/int_range.js';
import { QuantAvgPool2D } from '../../layers/quant_avg_pool2d.js';
import { minMax, sumPoolInt } from '../sim_kernels.js';
import type { ConverterEntry } from './types.js';

/** Converter of QuantAvgPool2D. */
export const quantAvgPool2DConverter: ConverterEntry = {
  classNames: ['QuantAvgPool2D'],
  convert(layer, b) {
    if (!(layer instanceof QuantAvgPool2D)) throw new UnsupportedLayerError(`layer '${layer.name}' is not a QuantAvgPool2D`);
    const c = b.requireQuantized(layer);
    if (c.shape.length !== 3) throw new UnsupportedLayerError(`layer '${layer.name}' (QuantAvgPool2D) needs an NHWC input, got per-sample shape [${c.shape.join(', ')}]`);
    const [h, w, ch] = c.shape as [number, number, number];
    const n = c.values.length / (h * w * ch);
    const r = sumPoolInt(c.values, n, [h, w, ch], layer.poolSize, layer.strides);
    const { ts, k } = layer.truncation(c.quantized.bitWidth);
    const sumName = b.uniqueName(`${layer.name}/sum`);
    const worst = { min: c.worst.min * k, max: c.worst.max * k };
    const mm = minMax(r.values);
    const range = { ...mm, bits: bitsForRange(mm.min, mm.max) };
    const worstCase = { ...worst, bits: bitsForRange(worst.min, worst.max) };
    b.addNode({ op: 'sumPool', name: sumName, input: c.node, shape: r.shape, range, worstCase, poolSize: [...layer.poolSize], strides: [...layer.strides] },
      { name: sumName, op: 'sumPool', layers: [layer.name], range, worstCase },
      { node: sumName, shape: r.shape, values: r.values, worst, quantized: null, chain: [], rank: 4, map: { scale: [1], bias: null, channels: 1 } });
    const meta = layer.outputQuantMeta();
    const { minInt, maxInt } = intRange({ bitWidth: layer.bitWidth, signed: meta.signed, narrowRange: false });
    const mode = layer.truncMode;
    const quantize = (t: tf.Tensor): tf.Tensor => tf.tidy(() => {
      const q = tf.div(tf.round(t), ts);
      return tf.clipByValue(mode === 'round' ? tf.round(q) : tf.floor(q), minInt, maxInt);
    });
    const log2 = Math.log2(ts);
    const exact = mode === 'round' && Number.isInteger(log2) && log2 >= 1 ? log2 : undefined;
    b.closeWithTlu([layer.name], layer.name, quantize, meta, exact);
  },
};
