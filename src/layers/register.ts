/**
 * The one list of tfjs-qat layer classes. Importing this module registers every class with
 * tf.serialization (each file also registers its class right after defining it).
 */
import { QuantIdentity, QuantReLU } from './quant_activation.js';
import { QuantLinear } from './quant_linear.js';
import { QuantConv2D } from './quant_conv2d.js';
import { QuantAvgPool2D } from './quant_avg_pool2d.js';
import { Univariate } from './univariate.js';

/** Every layer class tfjs-qat defines, by class name. */
export const LAYER_CLASSES = {
  QuantIdentity, QuantReLU, QuantLinear, QuantConv2D, QuantAvgPool2D, Univariate,
} as const;
