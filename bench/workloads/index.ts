/**
 * The workload registry: bench/run.ts runs these in order. To add one, write bench/workloads/<name>.ts exporting a
 * `Workload` and list it here (a quantized variant sets `variant` and pairs with its float net by `net`, which
 * gives the QAT/float ratio column).
 */
import type { Workload } from '../types.js';
import { cnnFloat } from './cnn_float.js';
import { cnnQat4 } from './cnn_qat.js';
import { mlpFloat } from './mlp_float.js';
import { mlpQat4 } from './mlp_qat.js';

/** All workloads, float first. */
export const WORKLOADS: readonly Workload[] = [mlpFloat, cnnFloat, mlpQat4, cnnQat4];

/** Find a workload by name (undefined when unknown). */
export function findWorkload(name: string): Workload | undefined {
  return WORKLOADS.find((w) => w.name === name);
}
