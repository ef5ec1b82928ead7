/**
 * Training history after skorch's `History`: a list of epochs, each a record of named values
 * plus the list of its batches. `trainLoss`, `validLoss`, `validAcc` and `dur` are written by the
 * net; callbacks may record anything else.
 */
import { NotInitializedError } from '../errors.js';

/** A value stored in the history (JSON-serializable). */
export type HistoryValue = number | string | boolean | null;

/** One batch: `trainLoss` / `validLoss`, `batchSize`, plus anything callbacks record. */
export type BatchRecord = Record<string, HistoryValue>;

/** One epoch: `epoch` (1-based), `trainLoss`, `validLoss`, `validAcc`, `dur` (seconds), `batches`. */
export interface EpochRecord {
  [key: string]: HistoryValue | BatchRecord[];
  epoch: number;
  batches: BatchRecord[];
}

/** Per-epoch and per-batch training records. */
export class History {
  /** Epoch records, oldest first. */
  readonly epochs: EpochRecord[] = [];

  /** Start a new epoch record (1-based epoch numbering continues across partialFit calls). */
  newEpoch(): EpochRecord {
    const rec: EpochRecord = { epoch: this.epochs.length + 1, batches: [] };
    this.epochs.push(rec);
    return rec;
  }

  /** Start a new batch record in the current epoch. */
  newBatch(): BatchRecord {
    const rec: BatchRecord = {};
    this.current('newBatch').batches.push(rec);
    return rec;
  }

  /**
   * Record `key = value` in the current epoch.
   * @throws NotInitializedError when no epoch was started ("call newEpoch first").
   */
  record(key: string, value: HistoryValue): void {
    if (key === 'batches' || key === 'epoch') throw new NotInitializedError(`history key '${key}' is reserved`);
    this.current('record')[key] = value;
  }

  /** Record `key = value` in the current batch of the current epoch. */
  recordBatch(key: string, value: HistoryValue): void {
    const batches = this.current('recordBatch').batches;
    const last = batches[batches.length - 1];
    if (last === undefined) throw new NotInitializedError('history.recordBatch: call newBatch before recording for the first time');
    last[key] = value;
  }

  /** The latest epoch record. */
  last(): EpochRecord | undefined {
    return this.epochs[this.epochs.length - 1];
  }

  /** `key` from the latest epoch, or undefined. */
  lastValue(key: string): HistoryValue | undefined {
    const v = this.last()?.[key];
    return Array.isArray(v) ? undefined : v;
  }

  /**
   * The column `key` over all epochs (undefined where an epoch lacks it), like skorch's `history[:, 'train_loss']`.
   * @example net.history.column('validLoss')
   */
  column(key: string): Array<HistoryValue | undefined> {
    return this.epochs.map((e) => {
      const v = e[key];
      return Array.isArray(v) ? undefined : v;
    });
  }

  /** Number of recorded epochs. */
  get length(): number {
    return this.epochs.length;
  }

  /** Plain JSON form (a deep copy). */
  toJSON(): EpochRecord[] {
    return JSON.parse(JSON.stringify(this.epochs)) as EpochRecord[];
  }

  /** Rebuild from `toJSON()` output. */
  static fromJSON(epochs: readonly EpochRecord[]): History {
    const h = new History();
    for (const e of epochs) h.epochs.push({ ...e, batches: e.batches.map((b) => ({ ...b })) });
    return h;
  }

  private current(op: string): EpochRecord {
    const e = this.last();
    if (e === undefined) throw new NotInitializedError(`history.${op}: call newEpoch before recording for the first time`);
    return e;
  }
}
