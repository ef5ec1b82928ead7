/**
 * One list of the kernels tfjs-qat adds or replaces, per backend. Idempotent.
 *
 * wasm: Conv2DBackpropFilter (missing in tfjs-backend-wasm 4.22), transposed BatchMatMul / _FusedMatMul
 * (transpose first, then XNNPACK), stride-1 Conv2DBackpropInput (one conv), AvgPoolGrad (heap loop; SIMD when the
 * windows tile the input), AvgPool (2×2/2 SIMD), Identity and same-dtype Cast (no copy: shared data), Add of a
 * [..., C] + [C] bias (row loop), Sum over the leading axes (SIMD column sums, float64 accumulators), comparisons
 * with a size-1 operand (scalar path), QatReluGrad (added: fused Relu gradient; also registers the Relu gradient).
 * Each entry's description is in wasm_kernels.ts. cpu: Conv2DBackpropFilter (typed-array loop). tensorflow
 * (tfjs-node): nothing.
 *
 * Environment: `TFJS_QAT_NO_KERNELS=1` registers none (for before/after benchmarks); a comma-separated list of
 * kernel names (e.g. `TFJS_QAT_NO_KERNELS=BatchMatMul,Conv2DBackpropInput`) skips only those.
 */
import * as tf from '@tensorflow/tfjs';
import { cpuKernelPatches } from './cpu_kernels.js';
import { wasmKernelPatches } from './wasm_kernels.js';
import type { KernelPatch } from './kernel_patch.js';

export type { KernelPatch } from './kernel_patch.js';

/** Backends whose kernels tfjs-qat may patch. */
export type PatchableBackend = 'tensorflow' | 'wasm' | 'cpu';

const registered = new Set<string>();
/** Per backend: kernel name -> the config that was registered before ours (undefined = none existed). */
const originals = new Map<string, Map<string, tf.KernelConfig | undefined>>();

/** Kernel names disabled through TFJS_QAT_NO_KERNELS ('*' = all). */
function disabledKernels(): Set<string> {
  const v = (process.env['TFJS_QAT_NO_KERNELS'] ?? '').trim();
  if (v === '' || v === '0' || v.toLowerCase() === 'false') return new Set();
  if (v === '1' || v.toLowerCase() === 'true' || v === '*' || v.toLowerCase() === 'all') return new Set(['*']);
  return new Set(v.split(',').map((s) => s.trim()).filter((s) => s !== ''));
}

/** The patches tfjs-qat defines for a backend. */
export function kernelPatches(backend: PatchableBackend): readonly KernelPatch[] {
  if (backend === 'wasm') return wasmKernelPatches;
  if (backend === 'cpu') return cpuKernelPatches;
  return [];
}

/** Register tfjs-qat's extra kernels for `backend` (once per process; a no-op for 'tensorflow'). */
export function registerExtraKernels(backend: 'tensorflow' | 'wasm' | 'cpu'): void {
  if (registered.has(backend)) return;
  registered.add(backend);
  const disabled = disabledKernels();
  if (disabled.has('*')) return;
  const saved = originals.get(backend) ?? new Map<string, tf.KernelConfig | undefined>();
  originals.set(backend, saved);
  for (const patch of kernelPatches(backend)) {
    if (disabled.has(patch.kernelName)) continue;
    const original = tf.getKernel(patch.kernelName, backend) as tf.KernelConfig | undefined;
    const config = patch.build(original);
    if (config === undefined) continue;
    if (original !== undefined) tf.unregisterKernel(patch.kernelName, backend);
    tf.registerKernel(config);
    saved.set(patch.kernelName, original);
  }
}

/**
 * Undo `registerExtraKernels(backend)`: the original tfjs kernels are registered again (used by tests to compute
 * references with tfjs' own kernels, and by benchmarks to compare). A later `registerExtraKernels` re-applies them.
 */
export function unregisterExtraKernels(backend: 'tensorflow' | 'wasm' | 'cpu'): void {
  registered.delete(backend);
  const saved = originals.get(backend);
  if (saved === undefined) return;
  for (const [name, original] of saved) {
    tf.unregisterKernel(name, backend);
    if (original !== undefined) tf.registerKernel(original);
  }
  saved.clear();
}

/** Names of the kernels currently replaced or added by tfjs-qat on `backend`. */
export function activeExtraKernels(backend: 'tensorflow' | 'wasm' | 'cpu'): string[] {
  return [...(originals.get(backend)?.keys() ?? [])];
}
