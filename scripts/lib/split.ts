/** Seeded train/test split for the CLI (stratified for classification). */
import { makeRng, shuffleInPlace } from '../../src/training/rng.js';

/**
 * Sorted train and test row indices; `testSize` is a fraction in (0, 1).
 * @example const { train, test } = trainTestSplit(100, 0.25, 0, labels);
 */
export function trainTestSplit(n: number, testSize: number, seed: number, strata?: readonly (number | string)[]): { train: number[]; test: number[] } {
  const rng = makeRng(`${seed}/cli-split`);
  const groups = new Map<number | string, number[]>();
  for (let i = 0; i < n; i++) {
    const g = strata?.[i] ?? 0;
    const list = groups.get(g) ?? [];
    list.push(i);
    groups.set(g, list);
  }
  const train: number[] = [];
  const test: number[] = [];
  for (const key of [...groups.keys()].sort((a, b) => String(a).localeCompare(String(b)))) {
    const idx = Array.from(shuffleInPlace(Int32Array.from(groups.get(key) ?? []), rng));
    const nTest = Math.round(idx.length * testSize);
    idx.forEach((v, i) => (i < nTest ? test : train).push(v));
  }
  return { train: train.sort((a, b) => a - b), test: test.sort((a, b) => a - b) };
}
