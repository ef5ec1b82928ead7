/** Shared helper: read a monitored numeric history value and compare with a threshold (EarlyStopping, schedulers). */
import { ConfigError } from '../../errors.js';
import type { TrainingContext } from '../callback.js';

/** Relative or absolute improvement threshold. */
export type ThresholdMode = 'rel' | 'abs';

/** The latest numeric value of `key`. @throws ConfigError when the key is missing (e.g. no validation split). */
export function monitoredValue(ctx: TrainingContext, key: string, who: string): number {
  const v = ctx.history.lastValue(key);
  if (typeof v !== 'number') {
    const keys = Object.keys(ctx.history.last() ?? {}).filter((k) => k !== 'batches');
    throw new ConfigError(`${who}: monitored key '${key}' is not in the history (have ${keys.join(', ')}); ` +
      `with trainSplit: null there is no 'validLoss', monitor 'trainLoss' instead`);
  }
  return v;
}

/** Whether `current` improves on `best` by more than the threshold. */
export function isImprovement(current: number, best: number | undefined, lowerIsBetter: boolean, threshold: number, mode: ThresholdMode): boolean {
  if (best === undefined) return true;
  const margin = mode === 'rel' ? Math.abs(best) * threshold : threshold;
  return lowerIsBetter ? current < best - margin : current > best + margin;
}
