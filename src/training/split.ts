/**
 * Internal train/validation split after skorch's `ValidSplit`: a fraction, or `{cv: k}` holding out one
 * of k folds (1/k of the data), stratified by class for classifiers; `null` disables validation.
 */
import { ConfigError, DataError } from '../errors.js';
import { shuffleInPlace, type Rng } from './rng.js';

/**
 * Validation split option.
 * - a number in (0, 1): that fraction of the samples is held out;
 * - `{cv: k, stratified?}`: one fold of k is held out (skorch `ValidSplit(k)`);
 * - `null`: no validation (all samples train).
 */
export type TrainSplit = number | { readonly cv: number; readonly stratified?: boolean } | null;

/** Resolved split: held-out fraction and stratification, or null. */
export interface ResolvedSplit {
  readonly fraction: number;
  readonly stratified: boolean;
}

/**
 * Validate a TrainSplit.
 * @param stratifiedDefault whether `{cv}` and fractions stratify by default (true for classifiers).
 * @throws ConfigError for fractions outside (0, 1) or cv < 2.
 */
export function resolveTrainSplit(split: TrainSplit, stratifiedDefault: boolean): ResolvedSplit | null {
  if (split === null) return null;
  if (typeof split === 'number') {
    if (!(split > 0 && split < 1)) {
      throw new ConfigError(`trainSplit: a fraction must be in (0, 1); got ${split}. Use e.g. 0.2, {cv: 5} or null`);
    }
    return { fraction: split, stratified: stratifiedDefault };
  }
  if (typeof split === 'object' && typeof split.cv === 'number') {
    if (!Number.isInteger(split.cv) || split.cv < 2) {
      throw new ConfigError(`trainSplit.cv must be an integer >= 2; got ${split.cv}`);
    }
    return { fraction: 1 / split.cv, stratified: split.stratified ?? stratifiedDefault };
  }
  throw new ConfigError(`trainSplit must be a fraction, {cv: k, stratified?} or null; got ${JSON.stringify(split)}`);
}

/**
 * Split sample indices `0..n-1` into sorted train and validation index arrays.
 * @param labels class index per sample, used when stratified.
 * @throws DataError when a side would be empty.
 */
export function splitIndices(n: number, split: ResolvedSplit, rng: Rng, labels?: Int32Array): { train: Int32Array; valid: Int32Array } {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const g = split.stratified && labels !== undefined ? (labels[i] ?? 0) : 0;
    const list = groups.get(g);
    if (list === undefined) groups.set(g, [i]);
    else list.push(i);
  }
  const valid: number[] = [];
  const train: number[] = [];
  for (const key of [...groups.keys()].sort((a, b) => a - b)) {
    const idx = shuffleInPlace(Int32Array.from(groups.get(key) ?? []), rng);
    const nValid = Math.round(idx.length * split.fraction);
    for (let i = 0; i < idx.length; i++) (i < nValid ? valid : train).push(idx[i] as number);
  }
  if (valid.length === 0 || train.length === 0) {
    throw new DataError(`trainSplit: holding out ${split.fraction} of ${n} samples leaves ${train.length} training and ${valid.length} validation samples; ` +
      'pass more data or trainSplit: null');
  }
  return { train: Int32Array.from(train.sort((a, b) => a - b)), valid: Int32Array.from(valid.sort((a, b) => a - b)) };
}
