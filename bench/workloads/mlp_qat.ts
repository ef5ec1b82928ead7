/**
 * 4-bit QAT MLP 784-256-256-10: quantIdentity on the input, quantLinear (4-bit weights), quantReLU (4-bit)
 * between layers, float logits. Two workloads: timed in the activation-statistics phase ('mlp-qat4', Brevitas'
 * default collectStatsSteps) and in the learned-clip phase ('mlp-qat4-learned').
 */
import * as tf from '@tensorflow/tfjs';
import { quantIdentity, quantLinear, quantReLU } from '../../src/layers/index.js';
import type { Variant, Workload } from '../types.js';
import { BATCH, CLASSES, LEARNED_PHASE_STATS_STEPS, MLP_HIDDEN, MLP_IN, QAT_BITS, glorot } from './common.js';

function mlpQat(variant: Extract<Variant, 'qat4' | 'qat4-learned'>): Workload {
  const stats = variant === 'qat4-learned' ? { collectStatsSteps: LEARNED_PHASE_STATS_STEPS } : {};
  return {
    name: `mlp-${variant}`,
    net: 'mlp',
    variant,
    description: `MLP ${MLP_IN}-${MLP_HIDDEN}-${MLP_HIDDEN}-${CLASSES}, ${QAT_BITS}-bit weights and activations (quantIdentity/quantLinear/quantReLU)` +
      (variant === 'qat4-learned' ? ', timed in the learned-clip phase' : ', timed in the statistics phase'),
    inputShape: [MLP_IN],
    classes: CLASSES,
    batchSize: BATCH,
    build: (seed) => tf.sequential({ layers: [
      quantIdentity({ inputShape: [MLP_IN], bitWidth: QAT_BITS, ...stats }),
      quantLinear({ units: MLP_HIDDEN, weightBitWidth: QAT_BITS, kernelInitializer: glorot(seed, 0) }),
      quantReLU({ bitWidth: QAT_BITS, ...stats }),
      quantLinear({ units: MLP_HIDDEN, weightBitWidth: QAT_BITS, kernelInitializer: glorot(seed, 1) }),
      quantReLU({ bitWidth: QAT_BITS, ...stats }),
      quantLinear({ units: CLASSES, weightBitWidth: QAT_BITS, kernelInitializer: glorot(seed, 2) }),
    ] }),
  };
}

/** Workload 'mlp-qat4' (statistics phase). */
export const mlpQat4: Workload = mlpQat('qat4');
/** Workload 'mlp-qat4-learned' (learned-clip phase). */
export const mlpQat4Learned: Workload = mlpQat('qat4-learned');
