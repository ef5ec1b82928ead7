/** Loaders for the shared accuracy datasets (../shared/data) with their fixed 75/25 splits, standardized. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCsv, toDataset } from '../lib/csv.js';
import { readIdx } from '../lib/idx.js';
import { applyStandardizer, fitStandardizer } from '../lib/standardize.js';

/** Where the shared data lives (override with TFJS_QAT_DATA). */
export const DATA_DIR = process.env['TFJS_QAT_DATA'] ?? join(import.meta.dirname, '..', '..', '..', 'shared', 'data');

/** A train/test split ready for the estimators. */
export interface SplitData {
  readonly Xtrain: number[][];
  readonly ytrain: number[];
  readonly Xtest: number[][];
  readonly ytest: number[];
}

/** iris / breast_cancer / diabetes with the splits.json indices, standardized on the train rows. */
export function loadTabular(name: 'iris' | 'breast_cancer' | 'diabetes'): SplitData {
  const ds = toDataset(readCsv(join(DATA_DIR, `${name}.csv`)), 'target');
  const splits = JSON.parse(readFileSync(join(DATA_DIR, 'splits.json'), 'utf8')) as { datasets: Record<string, { train: number[]; test: number[] }> };
  const s = splits.datasets[name];
  if (s === undefined) throw new Error(`splits.json has no entry for ${name}`);
  const y = ds.y as number[];
  const std = fitStandardizer(s.train.map((i) => ds.X[i] ?? []));
  return {
    Xtrain: applyStandardizer(std, s.train.map((i) => ds.X[i] ?? [])), ytrain: s.train.map((i) => y[i] ?? 0),
    Xtest: applyStandardizer(std, s.test.map((i) => ds.X[i] ?? [])), ytest: s.test.map((i) => y[i] ?? 0),
  };
}

function mnistPart(images: string, labels: string): { X: number[][]; y: number[] } {
  const im = readIdx(join(DATA_DIR, 'mnist_subset', images));
  const lb = readIdx(join(DATA_DIR, 'mnist_subset', labels));
  const n = im.shape[0] ?? 0;
  const d = 784;
  const X: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row = new Array<number>(d);
    for (let j = 0; j < d; j++) row[j] = ((im.data[i * d + j] ?? 0) / 255 - 0.1307) / 0.3081;
    X.push(row);
  }
  return { X, y: Array.from(lb.data) };
}

/** The MNIST subset (6000 train / 1000 test), normalized as the baselines: (x/255 - 0.1307) / 0.3081, flattened. */
export function loadMnistSubset(): SplitData {
  const tr = mnistPart('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz');
  const te = mnistPart('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz');
  return { Xtrain: tr.X, ytrain: tr.y, Xtest: te.X, ytest: te.y };
}
