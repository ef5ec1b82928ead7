/** EpochTimer: records each epoch's wall duration in seconds as `dur` (skorch `EpochTimer`). */
import type { Callback, TrainingContext } from '../callback.js';

/** Records `dur` (seconds) per epoch. A default callback. */
export class EpochTimer implements Callback {
  private start = 0;

  onEpochBegin(): void {
    this.start = performance.now();
  }

  onEpochEnd(ctx: TrainingContext): void {
    ctx.history.record('dur', (performance.now() - this.start) / 1000);
  }
}
