/**
 * Child process of bench/run.ts: measure ONE workload on one backend (so peak RSS is per workload) and print
 * a single JSON line `{"result": AnyResult}` or `{"failure": WorkloadFailure}` on stdout.
 * Usage: tsx bench/run_one.ts <workload> <backend> <warmup> <reps> <stepsPerRep> [quick|full]
 * Kernel mode comes from TFJS_QAT_NO_KERNELS (read by src/backend/kernels/register.ts).
 */
import { useBackend, type BackendName } from '../src/backend/use_backend.js';
import { measureWorkload } from './harness.js';
import type { AnyResult } from './types.js';
import { findWorkload, floatTwinOf } from './workloads/index.js';

const [name = '', backendArg = 'auto', warmup = '3', reps = '5', steps = '10', mode = 'full'] = process.argv.slice(2);
const off = process.env['TFJS_QAT_NO_KERNELS'];
const kernels: 'on' | 'off' = off !== undefined && off !== '' && off !== '0' ? 'off' : 'on';

function emit(obj: unknown): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

try {
  const w = findWorkload(name);
  if (w === undefined) throw new Error(`unknown workload '${name}'`);
  await useBackend(backendArg as BackendName, { quiet: true });
  let result: AnyResult;
  if (w.kind === 'custom') {
    result = await w.run({ quick: mode === 'quick', kernels });
  } else {
    const why = w.unavailable?.();
    if (why !== undefined) throw new Error(why);
    result = measureWorkload(w, { warmupSteps: Number(warmup), reps: Number(reps), stepsPerRep: Number(steps) }, kernels, undefined, floatTwinOf(w));
  }
  emit({ result });
} catch (e) {
  emit({ failure: { workload: name, backend: backendArg, kernels, error: e instanceof Error ? e.message.split('\n')[0] : String(e) } });
}
