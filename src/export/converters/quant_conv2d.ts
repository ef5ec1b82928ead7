/** QuantConv2D -> integer NHWC conv2d node (explicit zero padding, Int32Bias added in the accumulator). */
import { UnsupportedLayerError } from '../../errors.js';
import { bitsForRange } from '../../quant/int_range.js';
import { QuantConv2D } from '../../layers/quant_conv2d.js';
import { conv2dInt, minMax } from '../sim_kernels.js';
import { accumulatorMap, worstCaseRange } from './weights.js';
import type { ConverterEntry } from './types.js';

/** [top, bottom, left, right] zero padding of a QuantConv2D on an h x w input (tfjs 'same': the extra pixel goes last). */
export function explicitPadding(layer: QuantConv2D, h: number, w: number): [number, number, number, number] {
  const p = layer.padding;
  if (p === 'valid') return [0, 0, 0, 0];
  if (typeof p === 'number') return [p, p, p, p];
  const total = (n: number, k: number, s: number): number => Math.max((Math.ceil(n / s) - 1) * s + k - n, 0);
  const th = total(h, layer.kernelSize[0], layer.strides[0]);
  const tw = total(w, layer.kernelSize[1], layer.strides[1]);
  return [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
}

/** Converter of QuantConv2D. */
export const quantConv2DConverter: ConverterEntry = {
  classNames: ['QuantConv2D'],
  convert(layer, b) {
    if (!(layer instanceof QuantConv2D)) throw new UnsupportedLayerError(`layer '${layer.name}' is not a QuantConv2D`);
    const c = b.requireQuantized(layer);
    if (c.shape.length !== 3) throw new UnsupportedLayerError(`layer '${layer.name}' (QuantConv2D) needs an NHWC input, got per-sample shape [${c.shape.join(', ')}]`);
    const [h, w, cin] = c.shape as [number, number, number];
    const iw = layer.getIntWeights();
    const kernel = iw.shape as [number, number, number, number];
    const cout = kernel[3];
    const sIn = typeof c.quantized.scale === 'number' ? c.quantized.scale : (c.quantized.scale[0] ?? NaN);
    const { scale, floatBias, intBias } = accumulatorMap(layer, iw, sIn, cout);
    const padding = explicitPadding(layer, h, w);
    const n = c.values.length / (h * w * cin);
    const r = conv2dInt(c.values, n, [h, w, cin], iw.values, kernel, layer.strides, padding, intBias);
    const name = b.uniqueName(layer.name);
    const worst = worstCaseRange(iw.values, cout, intBias, c.worst.min, c.worst.max);
    b.checkWorst(name, worst);
    const mm = minMax(r.values);
    const range = { ...mm, bits: bitsForRange(mm.min, mm.max) };
    const worstCase = { ...worst, bits: bitsForRange(worst.min, worst.max) };
    b.addNode({
      op: 'conv2d', name, input: c.node, shape: r.shape, range, worstCase, strides: [...layer.strides], padding,
      weights: b.encode(iw.values, [...kernel]), bias: intBias === null ? null : b.encode(intBias, [cout]),
    }, {
      name, op: 'conv2d', layers: [layer.name], range, worstCase,
      brevitasAccBits: layer.worstCaseAccumulatorBitWidth(c.quantized.bitWidth), activeFanIn: layer.activeFanIn(),
    }, {
      node: name, shape: r.shape, values: r.values, worst, quantized: null, chain: [], rank: 4,
      map: { scale, bias: floatBias, channels: scale.length > 1 || floatBias !== null ? cout : 1 },
    });
  },
};
