/**
 * PrintLog: a per-epoch table of the history (skorch `PrintLog`). Always runs after the other callbacks,
 * so values they record appear in the same row. A value is marked `*` when the epoch records `<key>Best: true`.
 */
import type { Callback, TrainingContext } from '../callback.js';
import type { EpochRecord } from '../history.js';

/** PrintLog options. */
export interface PrintLogOptions {
  /** Where lines go. @default process.stdout */
  sink?: (line: string) => void;
  /** History keys not to print. @default ['batches'] */
  keysIgnored?: readonly string[];
}

const FIRST = ['epoch', 'trainLoss', 'validLoss', 'validAcc'];

/** Prints one aligned row per epoch when the net's `verbose` is > 0. */
export class PrintLog implements Callback {
  /** Marks it to run after all other callbacks. */
  readonly runLast = true;
  sink: (line: string) => void;
  keysIgnored: readonly string[];
  private columns: string[] | undefined;

  constructor(options: PrintLogOptions = {}) {
    this.sink = options.sink ?? ((line) => { process.stdout.write(`${line}\n`); });
    this.keysIgnored = options.keysIgnored ?? ['batches'];
  }

  initialize(): void {
    this.columns = undefined;
  }

  onTrainBegin(): void {
    this.columns = undefined;
  }

  onEpochEnd(ctx: TrainingContext): void {
    if (ctx.net.options.verbose <= 0) return;
    const rec = ctx.history.last();
    if (rec === undefined) return;
    if (this.columns === undefined) {
      this.columns = orderColumns(rec, this.keysIgnored);
      const header = this.columns.map((c) => c.padStart(width(c))).join('  ');
      this.sink(header);
      this.sink(this.columns.map((c) => '-'.repeat(width(c))).join('  '));
    }
    this.sink(this.columns.map((c) => formatCell(rec, c).padStart(width(c))).join('  '));
  }
}

function width(col: string): number {
  return Math.max(col.length, 8);
}

function orderColumns(rec: EpochRecord, ignored: readonly string[]): string[] {
  const keys = Object.keys(rec).filter((k) => !ignored.includes(k) && k !== 'batches' && !k.endsWith('Best') &&
    (typeof rec[k] === 'number' || typeof rec[k] === 'string'));
  const first = FIRST.filter((k) => keys.includes(k));
  const rest = keys.filter((k) => !FIRST.includes(k) && k !== 'dur');
  return [...first, ...rest, ...(keys.includes('dur') ? ['dur'] : [])];
}

function formatCell(rec: EpochRecord, key: string): string {
  const v = rec[key];
  let s: string;
  if (typeof v === 'number') s = key === 'epoch' ? String(v) : Number.isInteger(v) ? String(v) : v.toFixed(4);
  else if (typeof v === 'string') s = v;
  else s = '';
  return rec[`${key}Best`] === true ? `${s}*` : s;
}
