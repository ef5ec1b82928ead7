/**
 * Backend selection: tfjs-node when it loads, else WebAssembly (SIMD), else the pure-JS cpu backend.
 * Our own kernels (those that training quantized layers needs and wasm lacks) are registered here.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { BackendError, ConfigError } from '../errors.js';
import { registerExtraKernels } from './kernels/register.js';

/** Backends tfjs-qat can run on. `auto` picks the fastest that loads. */
export type BackendName = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

const BACKENDS: readonly BackendName[] = ['auto', 'tensorflow', 'wasm', 'cpu'];
const requireCjs = createRequire(import.meta.url);

let tfjsNodeTried = false;
let tfjsNodeError: string | undefined;

/** Try once to load `@tensorflow/tfjs-node` (an optional dependency). Returns true when it registered. */
function tryLoadTfjsNode(): boolean {
  if (!tfjsNodeTried) {
    tfjsNodeTried = true;
    try {
      requireCjs('@tensorflow/tfjs-node');
    } catch (e) {
      tfjsNodeError = e instanceof Error ? e.message.split('\n')[0] : String(e);
    }
  }
  return tf.findBackend('tensorflow') !== null || tf.engine().registryFactory['tensorflow'] !== undefined;
}

/** What `useBackend` picked, and why when it fell back. */
export interface BackendChoice {
  /** The tfjs backend now active: 'tensorflow', 'wasm' or 'cpu'. */
  readonly backend: 'tensorflow' | 'wasm' | 'cpu';
  /** Human-readable reason, e.g. "tfjs-node not installed; using wasm". */
  readonly reason: string;
}

/**
 * Activate a backend and register tfjs-qat's extra kernels on it.
 * @param name 'auto' (default): tfjs-node when it loads, else wasm, else cpu.
 * @param options.quiet do not print the choice (default: print one line to stderr when `auto` falls back... never in tests).
 * @throws BackendError when an explicitly named backend cannot be initialized.
 * @example const { backend } = await useBackend('wasm');
 */
export async function useBackend(name: BackendName = 'auto', options: { quiet?: boolean } = {}): Promise<BackendChoice> {
  if (!BACKENDS.includes(name)) {
    throw new ConfigError(`useBackend: unknown backend '${String(name)}'; use one of ${BACKENDS.join(', ')}`);
  }
  const candidates: Array<'tensorflow' | 'wasm' | 'cpu'> = name === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [name];
  const failures: string[] = [];
  for (const cand of candidates) {
    if (cand === 'tensorflow' && !tryLoadTfjsNode()) {
      failures.push(`tensorflow: @tensorflow/tfjs-node did not load (${tfjsNodeError ?? 'not registered'})`);
      continue;
    }
    let ok = false;
    try {
      ok = await tf.setBackend(cand);
      await tf.ready();
    } catch (e) {
      ok = false;
      failures.push(`${cand}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (ok && tf.getBackend() === cand) {
      registerExtraKernels(cand);
      const reason = failures.length === 0 ? `using ${cand}` : `using ${cand} (${failures.join('; ')})`;
      if (options.quiet === false) process.stderr.write(`tfjs-qat: ${reason}\n`);
      chosen = { backend: cand, reason };
      return chosen;
    }
    if (!ok) failures.push(`${cand}: setBackend failed`);
  }
  throw new BackendError(`useBackend('${name}'): no backend could be initialized: ${failures.join('; ')}. ` +
    `Install @tensorflow/tfjs-backend-wasm or use 'cpu'.`);
}

let chosen: BackendChoice | null = null;

/**
 * Make sure a backend is active: if `useBackend` was never called (and no other backend was set up by the
 * user), run `useBackend('auto')`. Called by the estimators' `fit`, so users need not set a backend first.
 */
export async function ensureBackend(): Promise<BackendChoice> {
  if (chosen !== null && tf.getBackend() === chosen.backend) return chosen;
  const active = tf.engine().backendName as string | null | undefined;
  if (typeof active === 'string' && active.length > 0 && chosen === null) {
    registerExtraKernels(active as 'tensorflow' | 'wasm' | 'cpu');
    return { backend: active as 'tensorflow' | 'wasm' | 'cpu', reason: `using ${active} (already active)` };
  }
  return useBackend('auto', { quiet: true });
}

/** Name of the currently active tfjs backend. */
export function currentBackend(): string {
  return tf.getBackend();
}
