/**
 * Shapes shared by the workloads (one definition of each network, float and quantized).
 */
import * as tf from '@tensorflow/tfjs';

/** MNIST-like sizes used by every workload. */
export const MLP_IN = 784;
/** Hidden width of the MLP 784-256-256-10. */
export const MLP_HIDDEN = 256;
/** Image side of the CNN input 28x28x1. */
export const IMG = 28;
/** Classes. */
export const CLASSES = 10;
/** Batch size of every workload. */
export const BATCH = 128;
/** Bit width of the QAT variants (weights and activations). */
export const QAT_BITS = 4;

/** Seeded Glorot-uniform initializer (layer i of the network). */
export function glorot(seed: number, i: number): ReturnType<typeof tf.initializers.glorotUniform> {
  return tf.initializers.glorotUniform({ seed: seed * 101 + i });
}

/**
 * collectStatsSteps of the '-learned' QAT workloads: the activation quantizers switch to learned clip values during
 * the harness' warm-up steps, so every timed step is a learned-phase step.
 */
export const LEARNED_PHASE_STATS_STEPS = 1;
