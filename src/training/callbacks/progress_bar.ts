/** ProgressBar: per-batch progress of the current epoch, redrawn in place, only on a TTY (skorch `ProgressBar`). */
import type { BatchContext, Callback } from '../callback.js';

/** ProgressBar options. */
export interface ProgressBarOptions {
  /** Output stream. @default process.stderr */
  stream?: NodeJS.WriteStream;
  /** Draw even when the stream is not a TTY. @default false */
  force?: boolean;
  /** Bar width in characters. @default 30 */
  width?: number;
}

/** Draws `epoch 3 [=====>     ] 12/40 loss 0.3412` while training. */
export class ProgressBar implements Callback {
  stream: NodeJS.WriteStream;
  force: boolean;
  width: number;
  private drawn = false;

  constructor(options: ProgressBarOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.force = options.force ?? false;
    this.width = options.width ?? 30;
  }

  private active(): boolean {
    return this.force || this.stream.isTTY === true;
  }

  onBatchEnd(ctx: BatchContext): void {
    if (!this.active() || !ctx.training) return;
    const done = ctx.batch + 1;
    const filled = Math.round((done / ctx.nBatches) * this.width);
    const bar = '='.repeat(Math.max(0, filled - 1)) + (filled > 0 ? '>' : '') + ' '.repeat(this.width - filled);
    const loss = ctx.loss !== undefined ? ` loss ${ctx.loss.toFixed(4)}` : '';
    this.stream.write(`\repoch ${ctx.epoch} [${bar}] ${done}/${ctx.nBatches}${loss}`);
    this.drawn = true;
  }

  onEpochEnd(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}
