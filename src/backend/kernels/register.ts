/**
 * One list of the kernels tfjs-qat adds or replaces, per backend. Idempotent.
 */
const registered = new Set<string>();

/** Register tfjs-qat's extra kernels for `backend` (once per process). */
export function registerExtraKernels(backend: 'tensorflow' | 'wasm' | 'cpu'): void {
  if (registered.has(backend)) return;
  registered.add(backend);
}
