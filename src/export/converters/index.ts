/** The one explicit list of layer converters (no registration by import side effect). */
import { quantActivationConverter } from './quant_activation.js';
import { quantLinearConverter } from './quant_linear.js';
import { quantConv2DConverter } from './quant_conv2d.js';
import { quantAvgPool2DConverter } from './quant_avg_pool2d.js';
import { shapeConverter } from './shape.js';
import { activationConverter, activationLayersConverter, batchNormConverter, identityConverter, univariateConverter } from './float_ops.js';
import type { ConverterEntry } from './types.js';

/** Every converter, in one list. */
export const CONVERTERS: readonly ConverterEntry[] = [
  quantActivationConverter, quantLinearConverter, quantConv2DConverter, quantAvgPool2DConverter, shapeConverter,
  univariateConverter, activationConverter, activationLayersConverter, batchNormConverter, identityConverter,
];

export type { Converter, ConverterEntry } from './types.js';
