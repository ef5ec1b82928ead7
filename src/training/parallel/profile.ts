/**
 * Opt-in step profile of data-parallel training (`TFJS_QAT_PARALLEL_PROFILE=1`, Linux): per-thread CPU time
 * from /proc/thread-self/schedstat, so that the critical path on an idle machine can be estimated on a loaded one.
 */
import { readFileSync } from 'node:fs';

/** Whether profiling is on (read once). */
export const PROFILE_ON = process.env['TFJS_QAT_PARALLEL_PROFILE'] === '1';

/** CPU milliseconds of the calling thread (0 when unavailable). */
export function threadCpuMs(): number {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return 0;
  }
}

/** Per-step CPU milliseconds: training-thread serial work, its own share, and the slowest worker's share. */
export interface StepProfile {
  readonly serialMs: number;
  readonly ownMs: number;
  readonly workerMs: number;
}

const steps: StepProfile[] = [];

/** Record one step (profiling on only). */
export function recordStep(p: StepProfile): void {
  steps.push(p);
}

/** The recorded steps since the last call (and clear them). */
export function takeParallelProfile(): StepProfile[] {
  return steps.splice(0, steps.length);
}
