/**
 * 4-bit QAT MLP 784-256-256-10: quantIdentity on the input, quantLinear (4-bit weights), quantReLU (4-bit)
 * between layers, float logits.
 */
import * as tf from '@tensorflow/tfjs';
import { quantIdentity, quantLinear, quantReLU } from '../../src/layers/index.js';
import type { Workload } from '../types.js';
import { BATCH, CLASSES, MLP_HIDDEN, MLP_IN, QAT_BITS, glorot } from './common.js';

/** Workload 'mlp-qat4'. */
export const mlpQat4: Workload = {
  name: 'mlp-qat4',
  net: 'mlp',
  variant: 'qat4',
  description: `MLP ${MLP_IN}-${MLP_HIDDEN}-${MLP_HIDDEN}-${CLASSES}, ${QAT_BITS}-bit weights and activations (quantIdentity/quantLinear/quantReLU)`,
  inputShape: [MLP_IN],
  classes: CLASSES,
  batchSize: BATCH,
  build: (seed) => tf.sequential({ layers: [
    quantIdentity({ inputShape: [MLP_IN], bitWidth: QAT_BITS }),
    quantLinear({ units: MLP_HIDDEN, weightBitWidth: QAT_BITS, kernelInitializer: glorot(seed, 0) }),
    quantReLU({ bitWidth: QAT_BITS }),
    quantLinear({ units: MLP_HIDDEN, weightBitWidth: QAT_BITS, kernelInitializer: glorot(seed, 1) }),
    quantReLU({ bitWidth: QAT_BITS }),
    quantLinear({ units: CLASSES, weightBitWidth: QAT_BITS, kernelInitializer: glorot(seed, 2) }),
  ] }),
};
