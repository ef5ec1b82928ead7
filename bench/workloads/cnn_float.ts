/**
 * Float CNN 28x28x1: conv3x3x8 - avgpool2 - conv3x3x16 - avgpool2 - dense10 ('same' padding, ReLU).
 */
import * as tf from '@tensorflow/tfjs';
import type { Workload } from '../types.js';
import { BATCH, CLASSES, IMG, glorot } from './common.js';

/** Workload 'cnn-float'. */
export const cnnFloat: Workload = {
  name: 'cnn-float',
  net: 'cnn',
  variant: 'float',
  description: `CNN ${IMG}x${IMG}x1 conv3x3x8-avgpool2-conv3x3x16-avgpool2-dense${CLASSES} float`,
  inputShape: [IMG, IMG, 1],
  classes: CLASSES,
  batchSize: BATCH,
  build: (seed) => tf.sequential({ layers: [
    tf.layers.conv2d({ inputShape: [IMG, IMG, 1], filters: 8, kernelSize: 3, padding: 'same', activation: 'relu',
      kernelInitializer: glorot(seed, 0) }),
    tf.layers.averagePooling2d({ poolSize: 2 }),
    tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: glorot(seed, 1) }),
    tf.layers.averagePooling2d({ poolSize: 2 }),
    tf.layers.flatten(),
    tf.layers.dense({ units: CLASSES, kernelInitializer: glorot(seed, 2) }),
  ] }),
};
