/**
 * The workload registry: bench/run.ts runs these in order, each in its own child process. To add one, write
 * bench/workloads/<name>.ts exporting a `Workload` (training loop measured by bench/harness.ts; a quantized
 * variant sets `variant` and pairs with its float net by `net`, which gives the QAT/float column) or a
 * `CustomWorkload` (its own `run`, returning a result of bench/types.ts), and list it here.
 */
import { peerKey, type AnyWorkload, type Workload } from '../types.js';
import { bcFloat } from './bc_float.js';
import { bcSqnn } from './bc_sqnn.js';
import { circuitMlp } from './circuit_mlp.js';
import { cnnFloat } from './cnn_float.js';
import { cnnQat4, cnnQat4Learned } from './cnn_qat.js';
import { mlpFloat } from './mlp_float.js';
import { mlpQat4, mlpQat4Learned } from './mlp_qat.js';
import { mlpRss } from './mlp_rss.js';
import { trees } from './trees.js';

/** All workloads, float first. */
export const WORKLOADS: readonly AnyWorkload[] = [mlpFloat, cnnFloat, mlpQat4, cnnQat4, mlpQat4Learned, cnnQat4Learned, bcFloat, bcSqnn, circuitMlp, trees, mlpRss];

/** Find a workload by name (undefined when unknown). */
export function findWorkload(name: string): AnyWorkload | undefined {
  return WORKLOADS.find((w) => w.name === name);
}

/** The PyTorch peer's (bench/peer_torch.py) workload names for these workloads (the learned-phase variants map to its qat4 runs). */
export function peerWorkloadNames(ws: readonly AnyWorkload[]): string[] {
  const names = ws.flatMap((w) => (w.kind !== 'custom' && (w.net === 'mlp' || w.net === 'cnn') ? [peerKey(w.net, w.variant)] : []));
  return [...new Set(names)];
}

/** The float workload of a QAT training workload's net (timed beside it for the QAT/float ratio), or undefined. */
export function floatTwinOf(w: Workload): Workload | undefined {
  if (w.variant === 'float') return undefined;
  return WORKLOADS.find((o): o is Workload => o.kind !== 'custom' && o.net === w.net && o.variant === 'float');
}
