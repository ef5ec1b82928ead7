/**
 * 4-bit QAT CNN 28x28x1: quantIdentity - quantConv2D 3x3x8 - quantReLU - quantAvgPool2D - quantConv2D 3x3x16 -
 * quantReLU - quantAvgPool2D - flatten - quantLinear 10. Timed in the statistics phase ('cnn-qat4') and in the
 * learned-clip phase ('cnn-qat4-learned').
 */
import * as tf from '@tensorflow/tfjs';
import { quantAvgPool2D, quantConv2D, quantIdentity, quantLinear, quantReLU } from '../../src/layers/index.js';
import type { Variant, Workload } from '../types.js';
import { BATCH, CLASSES, IMG, LEARNED_PHASE_STATS_STEPS, QAT_BITS, glorot } from './common.js';

function cnnQat(variant: Extract<Variant, 'qat4' | 'qat4-learned'>): Workload {
  const stats = variant === 'qat4-learned' ? { collectStatsSteps: LEARNED_PHASE_STATS_STEPS } : {};
  return {
    name: `cnn-${variant}`,
    net: 'cnn',
    variant,
    description: `CNN ${IMG}x${IMG}x1 as cnn-float, ${QAT_BITS}-bit (quantIdentity/quantConv2D/quantReLU/quantAvgPool2D/quantLinear)` +
      (variant === 'qat4-learned' ? ', timed in the learned-clip phase' : ', timed in the statistics phase'),
    inputShape: [IMG, IMG, 1],
    classes: CLASSES,
    batchSize: BATCH,
    build: (seed) => tf.sequential({ layers: [
      quantIdentity({ inputShape: [IMG, IMG, 1], bitWidth: QAT_BITS, ...stats }),
      quantConv2D({ filters: 8, kernelSize: 3, padding: 'same', weightBitWidth: QAT_BITS, kernelInitializer: glorot(seed, 0) }),
      quantReLU({ bitWidth: QAT_BITS, ...stats }),
      quantAvgPool2D({ poolSize: 2, bitWidth: QAT_BITS }),
      quantConv2D({ filters: 16, kernelSize: 3, padding: 'same', weightBitWidth: QAT_BITS, kernelInitializer: glorot(seed, 1) }),
      quantReLU({ bitWidth: QAT_BITS, ...stats }),
      quantAvgPool2D({ poolSize: 2, bitWidth: QAT_BITS }),
      tf.layers.flatten(),
      quantLinear({ units: CLASSES, weightBitWidth: QAT_BITS, kernelInitializer: glorot(seed, 2) }),
    ] }),
  };
}

/** Workload 'cnn-qat4' (statistics phase). */
export const cnnQat4: Workload = cnnQat('qat4');
/** Workload 'cnn-qat4-learned' (learned-clip phase). */
export const cnnQat4Learned: Workload = cnnQat('qat4-learned');
