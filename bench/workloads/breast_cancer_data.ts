/**
 * The bundled breast-cancer data (data/breast_cancer.csv, 569 x 30, target 0/1) with a seeded stratified 75/25
 * split, standardized on the training rows. Self-contained so `npm run bench` needs only the repository.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import seedrandom from 'seedrandom';

/** data/breast_cancer.csv of this repository. */
export const BREAST_CANCER_CSV = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'data', 'breast_cancer.csv');

/** A split of a tabular classification set. */
export interface TabularSplit {
  readonly xTrain: number[][];
  readonly yTrain: number[];
  readonly xTest: number[][];
  readonly yTest: number[];
}

/** Parse a numeric CSV whose last column is the integer target. */
export function readNumericCsv(file: string): { x: number[][]; y: number[] } {
  const lines = readFileSync(file, 'utf8').trim().split('\n').slice(1);
  const x: number[][] = [];
  const y: number[] = [];
  for (const line of lines) {
    const v = line.split(',').map(Number);
    if (v.some((n) => !Number.isFinite(n))) throw new Error(`${file}: non-numeric value in '${line.slice(0, 60)}'`);
    y.push(v.pop() as number);
    x.push(v);
  }
  return { x, y };
}

/**
 * Seeded stratified split (testFraction of every class to the test set), then standardization with the
 * training rows' mean and standard deviation.
 */
export function stratifiedSplit(x: readonly number[][], y: readonly number[], testFraction = 0.25, seed = 'bench'): TabularSplit {
  const rng = seedrandom(seed);
  const test = new Set<number>();
  for (const c of [...new Set(y)].sort((a, b) => a - b)) {
    const idx = y.map((v, i) => (v === c ? i : -1)).filter((i) => i >= 0);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    for (const i of idx.slice(0, Math.round(idx.length * testFraction))) test.add(i);
  }
  const trainIdx = y.map((_, i) => i).filter((i) => !test.has(i));
  const testIdx = y.map((_, i) => i).filter((i) => test.has(i));
  const d = x[0]?.length ?? 0;
  const mean = new Array<number>(d).fill(0);
  const std = new Array<number>(d).fill(0);
  for (const i of trainIdx) x[i]!.forEach((v, j) => { mean[j]! += v / trainIdx.length; });
  for (const i of trainIdx) x[i]!.forEach((v, j) => { std[j]! += (v - mean[j]!) ** 2 / trainIdx.length; });
  const scale = std.map((s) => (s > 0 ? Math.sqrt(s) : 1));
  const norm = (r: readonly number[]): number[] => r.map((v, j) => (v - mean[j]!) / scale[j]!);
  return {
    xTrain: trainIdx.map((i) => norm(x[i]!)), yTrain: trainIdx.map((i) => y[i]!),
    xTest: testIdx.map((i) => norm(x[i]!)), yTest: testIdx.map((i) => y[i]!),
  };
}

/** Breast cancer, split and standardized. */
export function loadBreastCancer(): TabularSplit {
  const { x, y } = readNumericCsv(BREAST_CANCER_CSV);
  return stratifiedSplit(x, y);
}
