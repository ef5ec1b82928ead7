/**
 * `tfjs-qat train --model tree|forest|boosting`: train an FHE-ready tree model (Concrete ML's tree estimators:
 * features quantized to `--n-bits` before training) on a CSV file, report the test accuracy (or R^2) of the
 * quantized model, the float library model's score on the same rows (tree, forest), the largest table-lookup input
 * of its circuit and the agreement of the circuit with the quantized model, and save it.
 * Output directory: tree_model.json (the estimator, `loadTreeEstimator`), preprocessing.json (feature names,
 * target, task, classes; no standardization: trees quantize raw features) and summary.json.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DecisionTreeClassifier as CartClassifier, DecisionTreeRegression as CartRegression } from 'ml-cart';
import { RandomForestClassifier as MlRfClassifier, RandomForestRegression as MlRfRegression } from 'ml-random-forest';
import type { Argv } from 'yargs';
import { ConfigError, DataError } from '../../src/errors.js';
import { writeFileAtomic } from '../../src/layers/index.js';
import {
  DecisionTreeClassifier, DecisionTreeRegressor, RandomForestClassifier, RandomForestRegressor, XGBClassifier, XGBRegressor,
  type FheTreeEstimator,
} from '../../src/trees/fhe/index.js';
import { TREE_MODEL_FILE } from '../../src/trees/fhe/persistence.js';
import { inferTask, readCsv, toDataset } from '../lib/csv.js';
import { trainTestSplit } from '../lib/split.js';

/** Tree model families of `--model`. */
export const TREE_MODELS = ['tree', 'forest', 'boosting'] as const;
/** A tree model family. */
export type TreeModelKind = (typeof TREE_MODELS)[number];

/** Defaults of the tree options. */
export const TREE_TRAIN_DEFAULTS = { nBits: 6, nEstimators: 20, maxDepth: 4, learningRate: 0.3, seed: 0, testSize: 0.25 } as const;

/** Parsed options of `train --model tree|forest|boosting`. */
export interface TrainTreeArgs {
  /** CSV file with a header line. */
  data: string;
  /** Target column. @default the last column */
  target?: string | undefined;
  /** @default inferred from the target */
  task?: 'classification' | 'regression' | undefined;
  /** Model family. */
  model: TreeModelKind;
  /** Bits of every quantized feature. @default 6 */
  nBits?: number | undefined;
  /** Trees (forest) or rounds (boosting). @default 20 */
  nEstimators?: number | undefined;
  /** Maximum tree depth. @default 4 */
  maxDepth?: number | undefined;
  /** Boosting shrinkage. @default 0.3 */
  learningRate?: number | undefined;
  /** Seed of the split and the forest. @default 0 */
  seed?: number | undefined;
  /** Held-out test fraction. @default 0.25 */
  testSize?: number | undefined;
  /** Output directory. */
  out: string;
  /** Print one JSON object. @default false */
  json?: boolean | undefined;
}

/** What the tree training reports (and writes to summary.json). */
export interface TrainTreeSummary {
  readonly model: TreeModelKind;
  readonly estimator: string;
  readonly task: 'classification' | 'regression';
  readonly metric: 'accuracy' | 'r2';
  /** Score of the quantized model on the test rows. */
  readonly testScore: number;
  readonly trainScore: number;
  /** Score of the float library model (ml-cart / ml-random-forest, same options and rows); null for boosting. */
  readonly floatTestScore: number | null;
  /** Largest table-lookup input of the circuit, in bits. */
  readonly maxTluInputBits: number;
  /** Share of test rows where the circuit simulation equals the quantized model. */
  readonly circuitAgreement: number;
  readonly nBits: number;
  readonly nTrain: number;
  readonly nTest: number;
  readonly nFeatures: number;
  readonly classes: Array<number | string> | null;
  readonly seconds: number;
  readonly out: string;
}

/**
 * Add the tree options to the train command's yargs builder (`--model`, `--n-bits`, `--n-estimators`,
 * `--max-depth`, `--learning-rate`); `--seed`, `--test-size`, `--out`, `--json` are shared with network training.
 */
export function addTreeTrainOptions<T>(y: Argv<T>): Argv<T> {
  return y
    .option('model', { choices: ['network', ...TREE_MODELS] as const, default: 'network' as const, describe: 'network (QAT) or an FHE tree model: tree, forest, boosting' })
    .option('n-bits', { type: 'number', describe: `trees: bits of every quantized feature (default ${TREE_TRAIN_DEFAULTS.nBits})` })
    .option('n-estimators', { type: 'number', describe: `forest/boosting: number of trees (default ${TREE_TRAIN_DEFAULTS.nEstimators})` })
    .option('max-depth', { type: 'number', describe: `trees: maximum depth (default ${TREE_TRAIN_DEFAULTS.maxDepth})` })
    .option('learning-rate', { type: 'number', describe: `boosting: shrinkage (default ${TREE_TRAIN_DEFAULTS.learningRate})` }) as unknown as Argv<T>;
}

/** True when parsed train arguments ask for a tree model. */
export function isTreeModelArg(a: object): a is TrainTreeArgs {
  const m = (a as { model?: unknown }).model;
  return typeof m === 'string' && (TREE_MODELS as readonly string[]).includes(m);
}

function check(ok: boolean, msg: string): void {
  if (!ok) throw new ConfigError(msg);
}

function makeEstimator(kind: TreeModelKind, task: 'classification' | 'regression', o: { nBits: number; nEstimators: number; maxDepth: number; learningRate: number; seed: number }): FheTreeEstimator {
  const base = { nBits: o.nBits, maxDepth: o.maxDepth, seed: o.seed };
  const cls = task === 'classification';
  if (kind === 'tree') return cls ? new DecisionTreeClassifier(base) : new DecisionTreeRegressor(base);
  if (kind === 'forest') return cls ? new RandomForestClassifier({ ...base, nEstimators: o.nEstimators }) : new RandomForestRegressor({ ...base, nEstimators: o.nEstimators });
  const b = { ...base, nEstimators: o.nEstimators, learningRate: o.learningRate };
  return cls ? new XGBClassifier(b) : new XGBRegressor(b);
}

/** The float library model with the same options on the same raw rows (tree, forest); null for boosting. */
function floatPredict(kind: TreeModelKind, task: 'classification' | 'regression', o: { nEstimators: number; maxDepth: number; seed: number; minNumSamples: number },
  xtr: number[][], ytr: number[], xte: number[][]): number[] | null {
  const treeOptions = { maxDepth: o.maxDepth, minNumSamples: o.minNumSamples };
  if (kind === 'tree') {
    const m = task === 'classification' ? new CartClassifier(treeOptions) : new CartRegression(treeOptions);
    m.train(xtr, ytr);
    return m.predict(xte);
  }
  if (kind === 'forest') {
    const opts = { nEstimators: o.nEstimators, seed: o.seed, noOOB: true, treeOptions };
    const m = task === 'classification' ? new MlRfClassifier(opts) : new MlRfRegression(opts);
    m.train(xtr, ytr);
    return m.predict(xte);
  }
  return null;
}

/** Accuracy or R^2. */
function score(task: 'classification' | 'regression', pred: readonly number[], y: readonly number[]): number {
  if (task === 'classification') return pred.filter((p, i) => p === y[i]).length / y.length;
  const mean = y.reduce((a, b) => a + b, 0) / y.length;
  const ssTot = y.reduce((s, v) => s + (v - mean) ** 2, 0);
  const ssRes = y.reduce((s, v, i) => s + (v - (pred[i] as number)) ** 2, 0);
  return ssTot > 0 ? 1 - ssRes / ssTot : 0;
}

/**
 * Train a tree model from CLI arguments; returns the summary (also printed).
 * @example await trainTreeFromCli({data: 'iris.csv', model: 'forest', out: 'out/forest'});
 * @throws ConfigError for bad options, DataError for a bad CSV.
 */
export async function trainTreeFromCli(a: TrainTreeArgs, log: (s: string) => void = (s) => { process.stdout.write(`${s}\n`); }): Promise<TrainTreeSummary> {
  const o = {
    nBits: a.nBits ?? TREE_TRAIN_DEFAULTS.nBits, nEstimators: a.nEstimators ?? TREE_TRAIN_DEFAULTS.nEstimators, maxDepth: a.maxDepth ?? TREE_TRAIN_DEFAULTS.maxDepth,
    learningRate: a.learningRate ?? TREE_TRAIN_DEFAULTS.learningRate, seed: a.seed ?? TREE_TRAIN_DEFAULTS.seed, testSize: a.testSize ?? TREE_TRAIN_DEFAULTS.testSize,
  };
  check((TREE_MODELS as readonly string[]).includes(a.model), `--model must be one of ${TREE_MODELS.join(', ')} for trees; got ${String(a.model)}`);
  check(o.testSize > 0 && o.testSize < 1, `--test-size must be in (0, 1); got ${o.testSize}`);
  check(Number.isInteger(o.seed), `--seed must be an integer; got ${o.seed}`);
  const t0 = Date.now();
  const ds = toDataset(readCsv(a.data), a.target, a.data);
  const task = a.task ?? inferTask(ds.y);
  const labels: Array<number | string> = [...ds.y];
  const { train, test } = trainTestSplit(ds.X.length, o.testSize, o.seed, task === 'classification' ? labels : undefined);
  check(train.length > 0 && test.length > 0, `--test-size ${o.testSize} leaves ${train.length} training and ${test.length} test rows; use more data or another --test-size`);
  const xtr = train.map((i) => ds.X[i] as number[]);
  const xte = test.map((i) => ds.X[i] as number[]);
  let classes: Array<number | string> | null = null;
  let ytr: number[];
  let yte: number[];
  if (task === 'classification') {
    const seen = [...new Set(train.map((i) => labels[i] as number | string))];
    classes = seen.every((v) => typeof v === 'number') ? (seen as number[]).sort((p, q) => p - q) : seen.map(String).sort((p, q) => p.localeCompare(q));
    const index = new Map(classes.map((c, i) => [String(c), i]));
    ytr = train.map((i) => index.get(String(labels[i])) as number);
    yte = test.map((i) => index.get(String(labels[i])) ?? -1);
    if (classes.length < 2) throw new DataError(`${a.data}: the training rows hold only one class (${String(classes[0])}); a classifier needs at least 2`);
  } else {
    ytr = train.map((i) => Number(labels[i]));
    yte = test.map((i) => Number(labels[i]));
  }
  const est = makeEstimator(a.model, task, o);
  if (a.json !== true) log(`training a ${o.nBits}-bit ${a.model} (${est.constructor.name}) on ${train.length} rows x ${ds.featureNames.length} features (${test.length} test rows)`);
  est.fit(xtr, ytr);
  const predTe = est.predict(xte);
  const testScore = score(task, predTe, yte);
  const trainScore = score(task, est.predict(xtr), ytr);
  const fp = floatPredict(a.model, task, { ...o, minNumSamples: est.options.minNumSamples }, xtr, ytr, xte);
  const floatTestScore = fp === null ? null : score(task, fp, yte);
  const circuit = est.compile(xtr);
  const sim = est.predict(xte, { fhe: 'simulate' });
  const circuitAgreement = sim.filter((p, i) => p === predTe[i]).length / sim.length;
  mkdirSync(a.out, { recursive: true });
  est.save(a.out);
  writeFileAtomic(join(a.out, 'preprocessing.json'), JSON.stringify({
    formatVersion: 1, model: a.model, featureNames: ds.featureNames, target: ds.targetName, task, classes, estimatorParams: est.getParams(),
  }, null, 2));
  const summary: TrainTreeSummary = {
    model: a.model, estimator: est.constructor.name, task, metric: task === 'classification' ? 'accuracy' : 'r2', testScore, trainScore, floatTestScore,
    maxTluInputBits: circuit.report.maxTluInputBits, circuitAgreement, nBits: o.nBits, nTrain: train.length, nTest: test.length,
    nFeatures: ds.featureNames.length, classes, seconds: (Date.now() - t0) / 1000, out: a.out,
  };
  writeFileAtomic(join(a.out, 'summary.json'), JSON.stringify(summary, null, 2));
  if (a.json === true) log(JSON.stringify(summary));
  else {
    const name = summary.metric === 'accuracy' ? 'accuracy' : 'R^2';
    log(`test ${name}: ${testScore.toFixed(4)} (train ${trainScore.toFixed(4)}); float ${a.model} on the same rows: ${floatTestScore === null ? 'n/a' : floatTestScore.toFixed(4)}`);
    log(`largest table-lookup input: ${summary.maxTluInputBits} bits; circuit simulation = quantized model on ${(100 * circuitAgreement).toFixed(2)}% of test rows`);
    log(`saved to ${a.out} (${TREE_MODEL_FILE}, preprocessing.json, summary.json)`);
  }
  return summary;
}
