/**
 * 4-bit QAT CNN 28x28x1: quantIdentity - quantConv2D 3x3x8 - quantReLU - quantAvgPool2D - quantConv2D 3x3x16 -
 * quantReLU - quantAvgPool2D - flatten - quantLinear 10.
 */
import * as tf from '@tensorflow/tfjs';
import { quantAvgPool2D, quantConv2D, quantIdentity, quantLinear, quantReLU } from '../../src/layers/index.js';
import type { Workload } from '../types.js';
import { BATCH, CLASSES, IMG, QAT_BITS, glorot } from './common.js';

/** Workload 'cnn-qat4'. */
export const cnnQat4: Workload = {
  name: 'cnn-qat4',
  net: 'cnn',
  variant: 'qat4',
  description: `CNN ${IMG}x${IMG}x1 as cnn-float, ${QAT_BITS}-bit (quantIdentity/quantConv2D/quantReLU/quantAvgPool2D/quantLinear)`,
  inputShape: [IMG, IMG, 1],
  classes: CLASSES,
  batchSize: BATCH,
  build: (seed) => tf.sequential({ layers: [
    quantIdentity({ inputShape: [IMG, IMG, 1], bitWidth: QAT_BITS }),
    quantConv2D({ filters: 8, kernelSize: 3, padding: 'same', weightBitWidth: QAT_BITS, kernelInitializer: glorot(seed, 0) }),
    quantReLU({ bitWidth: QAT_BITS }),
    quantAvgPool2D({ poolSize: 2, bitWidth: QAT_BITS }),
    quantConv2D({ filters: 16, kernelSize: 3, padding: 'same', weightBitWidth: QAT_BITS, kernelInitializer: glorot(seed, 1) }),
    quantReLU({ bitWidth: QAT_BITS }),
    quantAvgPool2D({ poolSize: 2, bitWidth: QAT_BITS }),
    tf.layers.flatten(),
    quantLinear({ units: CLASSES, weightBitWidth: QAT_BITS, kernelInitializer: glorot(seed, 2) }),
  ] }),
};
