/**
 * `tfjs-qat train`: train a SparseQuantNeuralNetwork on a CSV file, report test accuracy (or R^2) and the
 * worst-case accumulator bit width, and save the model.
 * Output directory: params/ (estimator, loadParams), model/ (tfjs model + quantizer state, loadModel),
 * preprocessing.json (feature names, standardization, target, classes) and summary.json (the reported figures).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Argv } from 'yargs';
import { ConfigError } from '../../src/errors.js';
import { saveModel, writeFileAtomic } from '../../src/layers/index.js';
import { accumulatorReport } from '../../src/models/index.js';
import { EarlyStopping, NeuralNetClassifier, NeuralNetRegressor, ProgressBar, type NeuralNetOptions } from '../../src/training/index.js';
import { inferTask, readCsv, toDataset } from '../lib/csv.js';
import { trainTestSplit } from '../lib/split.js';
import { applyStandardizer, fitStandardizer } from '../lib/standardize.js';
import type { CliCommand } from './command.js';
import { addTreeTrainOptions, isTreeModelArg, trainTreeFromCli } from './train_tree.js';

/** Parsed options of `train`. */
export interface TrainArgs {
  data: string;
  target: string | undefined;
  task: 'classification' | 'regression' | undefined;
  layers: number;
  wBits: number;
  aBits: number;
  accumBits: number;
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  testSize: number;
  out: string;
  json: boolean;
}

/** What `train` reports (and writes to summary.json). */
export interface TrainSummary {
  readonly task: 'classification' | 'regression';
  readonly metric: 'accuracy' | 'r2';
  readonly testScore: number;
  readonly trainScore: number;
  readonly worstCaseAccumulatorBits: number;
  readonly accumulatorBitsPerLayer: Array<{ layer: string; bits: number; activeFanIn: number }>;
  readonly nTrain: number;
  readonly nTest: number;
  readonly nFeatures: number;
  readonly classes: Array<number | string> | null;
  readonly epochs: number;
  readonly seconds: number;
  readonly out: string;
}

/** Defaults of the CLI's training settings (tuned on breast cancer; see the acceptance script). */
export const TRAIN_DEFAULTS = { layers: 3, wBits: 4, aBits: 4, accumBits: 32, epochs: 100, batchSize: 128, lr: 0.01, seed: 0, testSize: 0.25 } as const;

function check(ok: boolean, msg: string): void {
  if (!ok) throw new ConfigError(msg);
}

/** Run the train command with parsed arguments; returns the summary (also printed). */
export async function runTrain(a: TrainArgs, log: (s: string) => void = (s) => { process.stdout.write(`${s}\n`); }): Promise<TrainSummary> {
  check(a.testSize > 0 && a.testSize < 1, `--test-size must be in (0, 1); got ${a.testSize}`);
  check(Number.isInteger(a.epochs) && a.epochs >= 1, `--epochs must be a positive integer; got ${a.epochs}`);
  check(Number.isInteger(a.layers) && a.layers >= 1, `--layers must be a positive integer; got ${a.layers}`);
  const t0 = Date.now();
  const ds = toDataset(readCsv(a.data), a.target, a.data);
  const task = a.task ?? inferTask(ds.y);
  const labels: Array<number | string> = [...ds.y];
  const { train, test } = trainTestSplit(ds.X.length, a.testSize, a.seed, task === 'classification' ? labels : undefined);
  check(train.length > 0 && test.length > 0, `--test-size ${a.testSize} leaves ${train.length} training and ${test.length} test rows; use more data or another --test-size`);
  const std = fitStandardizer(train.map((i) => ds.X[i] ?? []));
  const Xtr = applyStandardizer(std, train.map((i) => ds.X[i] ?? []));
  const Xte = applyStandardizer(std, test.map((i) => ds.X[i] ?? []));
  const ytr = train.map((i) => labels[i] as number | string);
  const yte = test.map((i) => labels[i] as number | string);
  const options: NeuralNetOptions = {
    module__nLayers: a.layers, module__nWBits: a.wBits, module__nABits: a.aBits, module__nAccumBits: a.accumBits,
    maxEpochs: a.epochs, batchSize: a.batchSize, lr: a.lr, seed: a.seed, trainSplit: null, verbose: a.json ? 0 : 1,
    callbacks: a.json ? [] : [new ProgressBar()],
  };
  if (task === 'regression') {
    // small regression sets overfit: hold out 20 % of the training rows and keep the best epoch
    Object.assign(options, { trainSplit: 0.2, callbacks: [...(options.callbacks ?? []), new EarlyStopping({ patience: 15, restoreBestWeights: true })] });
  }
  if (!a.json) log(`training a ${a.layers}-layer ${a.wBits}/${a.aBits}-bit ${task} network on ${train.length} rows x ${ds.featureNames.length} features (${test.length} test rows)`);
  const net = task === 'classification' ? new NeuralNetClassifier(options) : new NeuralNetRegressor(options);
  await net.fit(Xtr, task === 'classification' ? ytr : ytr.map(Number));
  const testScore = net.score(Xte, task === 'classification' ? yte : yte.map(Number));
  const trainScore = net.score(Xtr, task === 'classification' ? ytr : ytr.map(Number));
  const report = accumulatorReport(net.model);
  mkdirSync(a.out, { recursive: true });
  await net.saveParams(join(a.out, 'params'));
  await saveModel(net.model, join(a.out, 'model'));
  const classes = net instanceof NeuralNetClassifier ? (net.classes_ ?? null) : null;
  writeFileAtomic(join(a.out, 'preprocessing.json'), JSON.stringify({
    formatVersion: 1, featureNames: ds.featureNames, target: ds.targetName, task, standardize: std, classes,
    estimatorParams: Object.fromEntries(Object.entries(net.getParams()).filter(([k]) => k !== 'callbacks')),
  }, null, 2));
  const summary: TrainSummary = {
    task, metric: task === 'classification' ? 'accuracy' : 'r2', testScore, trainScore,
    worstCaseAccumulatorBits: Math.max(...report.map((r) => r.accumulatorBits)),
    accumulatorBitsPerLayer: report.map((r) => ({ layer: r.layer, bits: r.accumulatorBits, activeFanIn: r.activeFanIn })),
    nTrain: train.length, nTest: test.length, nFeatures: ds.featureNames.length, classes, epochs: net.history.length,
    seconds: (Date.now() - t0) / 1000, out: a.out,
  };
  writeFileAtomic(join(a.out, 'summary.json'), JSON.stringify(summary, null, 2));
  net.dispose();
  if (a.json) log(JSON.stringify(summary));
  else {
    log(`test ${summary.metric === 'accuracy' ? 'accuracy' : 'R^2'}: ${testScore.toFixed(4)} (train ${trainScore.toFixed(4)})`);
    log(`worst-case accumulator bit width: ${summary.worstCaseAccumulatorBits} (per layer: ${report.map((r) => `${r.layer} ${r.accumulatorBits}`).join(', ')})`);
    log(`saved to ${a.out} (params/, model/, preprocessing.json, summary.json)`);
  }
  return summary;
}

/** The yargs command module. */
export const trainCommand: CliCommand<TrainArgs> = {
  command: 'train',
  describe: 'train a quantized (FHE-ready) network, or with --model tree|forest|boosting a quantized tree model, on a CSV file and save it',
  builder: (y: Argv) => addTreeTrainOptions(y
    .option('data', { type: 'string', demandOption: true, describe: 'CSV file with a header line' })
    .option('target', { type: 'string', describe: 'target column (default: the last column)' })
    .option('task', { choices: ['classification', 'regression'] as const, describe: 'default: inferred from the target' })
    .option('layers', { type: 'number', default: TRAIN_DEFAULTS.layers, describe: 'number of linear layers' })
    .option('w-bits', { type: 'number', default: TRAIN_DEFAULTS.wBits, describe: 'weight bits' })
    .option('a-bits', { type: 'number', default: TRAIN_DEFAULTS.aBits, describe: 'activation bits' })
    .option('accum-bits', { type: 'number', default: TRAIN_DEFAULTS.accumBits, describe: 'accumulator bits (per-neuron fan-in is pruned to fit)' })
    .option('epochs', { type: 'number', default: TRAIN_DEFAULTS.epochs })
    .option('batch-size', { type: 'number', default: TRAIN_DEFAULTS.batchSize })
    .option('lr', { type: 'number', default: TRAIN_DEFAULTS.lr, describe: 'Adam learning rate' })
    .option('seed', { type: 'number', default: TRAIN_DEFAULTS.seed })
    .option('test-size', { type: 'number', default: TRAIN_DEFAULTS.testSize, describe: 'held-out test fraction' })
    .option('out', { type: 'string', demandOption: true, describe: 'output directory' })
    .option('json', { type: 'boolean', default: false, describe: 'print one JSON object instead of text' })) as unknown as Argv<TrainArgs>,
  handler: async (args) => {
    if (isTreeModelArg(args)) {
      await trainTreeFromCli(args);
      return;
    }
    await runTrain(args);
  },
};
