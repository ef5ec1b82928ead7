/** QuantLinear -> integer gemm node (integer weights [in, out], Int32Bias added in the accumulator). */
import { UnsupportedLayerError } from '../../errors.js';
import { bitsForRange } from '../../quant/int_range.js';
import { QuantLinear } from '../../layers/quant_linear.js';
import { gemmInt, minMax } from '../sim_kernels.js';
import { accumulatorMap, worstCaseRange } from './weights.js';
import type { ConverterEntry } from './types.js';

/** Converter of QuantLinear. */
export const quantLinearConverter: ConverterEntry = {
  classNames: ['QuantLinear'],
  convert(layer, b) {
    if (!(layer instanceof QuantLinear)) throw new UnsupportedLayerError(`layer '${layer.name}' is not a QuantLinear`);
    const c = b.requireQuantized(layer);
    if (c.shape.length !== 1) {
      throw new UnsupportedLayerError(`layer '${layer.name}' (QuantLinear) gets a rank-${c.shape.length} input [${c.shape.join(', ')}]; add tf.layers.flatten() before it`);
    }
    const iw = layer.getIntWeights();
    const [inF, outF] = iw.shape as [number, number];
    const sIn = typeof c.quantized.scale === 'number' ? c.quantized.scale : (c.quantized.scale[0] ?? NaN);
    const { scale, floatBias, intBias } = accumulatorMap(layer, iw, sIn, outF);
    const values = gemmInt(c.values, c.values.length / inF, inF, iw.values, outF, intBias);
    const name = b.uniqueName(layer.name);
    const worst = worstCaseRange(iw.values, outF, intBias, c.worst.min, c.worst.max);
    b.checkWorst(name, worst);
    const mm = minMax(values);
    const range = { ...mm, bits: bitsForRange(mm.min, mm.max) };
    const worstCase = { ...worst, bits: bitsForRange(worst.min, worst.max) };
    b.addNode({
      op: 'gemm', name, input: c.node, shape: [outF], range, worstCase,
      weights: b.encode(iw.values, [inF, outF]), bias: intBias === null ? null : b.encode(intBias, [outF]),
    }, {
      name, op: 'gemm', layers: [layer.name], range, worstCase,
      brevitasAccBits: layer.worstCaseAccumulatorBitWidth(c.quantized.bitWidth), activeFanIn: layer.activeFanIn(),
    }, {
      node: name, shape: [outF], values, worst, quantized: null, chain: [], rank: 2,
      map: { scale, bias: floatBias, channels: scale.length > 1 || floatBias !== null ? outF : 1 },
    });
  },
};
