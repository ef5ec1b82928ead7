/**
 * Acceptance measurement for issue 3 (run: `npx tsx scripts/acceptance/training_acceptance.ts [--only a,b] [--seeds 0,1,2]`).
 * Trains every configuration through the public estimator API on the fixed splits, for each seed, and prints
 * a table plus one JSON object (means, per-seed scores, thresholds, pass/fail).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '../../src/backend/use_backend.js';
import { EarlyStopping, LRScheduler, NeuralNetClassifier, NeuralNetRegressor, type NeuralNetOptions } from '../../src/training/index.js';
import { maxActiveNeurons, accumulatorReport } from '../../src/models/index.js';
import { loadMnistSubset, loadTabular, type SplitData } from './datasets.js';

/** One acceptance configuration. */
export interface AcceptanceConfig {
  readonly name: string;
  readonly data: () => SplitData;
  readonly task: 'classification' | 'regression';
  readonly threshold: number;
  readonly options: NeuralNetOptions;
  /** Check every neuron's fan-in <= maxActiveNeurons. */
  readonly checkFanIn?: boolean;
}

/** Training settings shared by the tabular configurations (tuned to reach the thresholds). */
export const TABULAR = { maxEpochs: 100, batchSize: 128, lr: 0.01, trainSplit: null, verbose: 0 } as const;

/**
 * Breast cancer: the 4-bit input quantizer collects max|x| statistics for 300 steps (clip ~8-16 on standardized
 * features) and only then learns its clip value, so the recipe needs many steps after the collection phase:
 * batch 32 (14 steps/epoch), 150 epochs, lr 0.005 with a cosine schedule. Measured means over seeds 0-2:
 * 4/4 0.942, 3/3 0.935, 3/3 acc12 0.932 (seeds 0-4: 0.940, 0.934, 0.937).
 */
export const BREAST_CANCER = {
  ...TABULAR, batchSize: 32, maxEpochs: 150, lr: 0.005,
  callbacks: [['lr', new LRScheduler({ policy: 'cosine', tMax: 150 })]] as Array<[string, LRScheduler]>,
};

/** The configurations of the issue. */
export const CONFIGS: readonly AcceptanceConfig[] = [
  { name: 'breast_cancer 4/4 acc32', data: () => loadTabular('breast_cancer'), task: 'classification', threshold: 0.94,
    options: { ...BREAST_CANCER, module__nLayers: 3, module__nWBits: 4, module__nABits: 4, module__nAccumBits: 32 } },
  { name: 'breast_cancer 3/3 acc32', data: () => loadTabular('breast_cancer'), task: 'classification', threshold: 0.93,
    options: { ...BREAST_CANCER, module__nLayers: 3, module__nWBits: 3, module__nABits: 3, module__nAccumBits: 32 } },
  { name: 'breast_cancer 3/3 acc12', data: () => loadTabular('breast_cancer'), task: 'classification', threshold: 0.92, checkFanIn: true,
    options: { ...BREAST_CANCER, module__nLayers: 3, module__nWBits: 3, module__nABits: 3, module__nAccumBits: 12 } },
  { name: 'iris 4/4', data: () => loadTabular('iris'), task: 'classification', threshold: 0.93,
    options: { ...TABULAR, maxEpochs: 100, batchSize: 16, module__nLayers: 3, module__nWBits: 4, module__nABits: 4 } },
  { name: 'diabetes 4/4 (R^2)', data: () => loadTabular('diabetes'), task: 'regression', threshold: 0.28,
    // regression overfits 331 rows: hold out 20 % and stop early, keeping the best epoch
    options: { ...TABULAR, maxEpochs: 150, batchSize: 32, lr: 0.005, trainSplit: 0.2, callbacks: [new EarlyStopping({ patience: 15, restoreBestWeights: true })],
      module__nLayers: 3, module__nWBits: 4, module__nABits: 4 } },
  { name: 'mnist_subset 2 layers 4/4 h256', data: loadMnistSubset, task: 'classification', threshold: 0.9,
    options: { maxEpochs: 12, batchSize: 64, lr: 0.002, trainSplit: null, verbose: 0, module__nLayers: 2, module__nHiddenNeurons: 256, module__nWBits: 4, module__nABits: 4 } },
];

/** Result of one configuration and seed. */
export interface RunResult {
  readonly score: number;
  readonly seconds: number;
  readonly maxAccumulatorBits: number;
  readonly fanInOk: boolean | null;
}

/** Train one configuration with one seed through the public API and score it on the test rows. */
export async function runOne(cfg: AcceptanceConfig, data: SplitData, seed: number): Promise<RunResult> {
  const t0 = Date.now();
  const opts = { ...cfg.options, seed };
  const net = cfg.task === 'classification' ? new NeuralNetClassifier(opts) : new NeuralNetRegressor(opts);
  await net.fit(data.Xtrain, data.ytrain);
  const score = net.score(data.Xtest, data.ytest);
  const report = accumulatorReport(net.model);
  let fanInOk: boolean | null = null;
  if (cfg.checkFanIn === true) {
    const o = cfg.options as Record<string, unknown>;
    const budget = maxActiveNeurons({ nWBits: Number(o['module__nWBits']), nABits: Number(o['module__nABits']), nAccumBits: Number(o['module__nAccumBits']) });
    fanInOk = report.every((r) => r.activeFanIn <= budget);
  }
  net.dispose();
  return { score, seconds: (Date.now() - t0) / 1000, maxAccumulatorBits: Math.max(...report.map((r) => r.accumulatorBits)), fanInOk };
}

/** Same seed twice -> identical history (without durations) and predictions; save/load -> identical predictions. */
export async function reproducibility(): Promise<{ sameSeedIdentical: boolean; saveLoadIdentical: boolean }> {
  const data = loadTabular('breast_cancer');
  const opts = { ...TABULAR, maxEpochs: 5, module__nLayers: 3, seed: 11 };
  const run = async (): Promise<{ h: string; p: number[][]; net: NeuralNetClassifier }> => {
    const net = new NeuralNetClassifier(opts);
    await net.fit(data.Xtrain, data.ytrain);
    const h = JSON.stringify(net.history.toJSON().map(({ dur, ...r }) => { void dur; return r; }));
    return { h, p: net.predictProba(data.Xtest), net };
  };
  const a = await run();
  const b = await run();
  const sameSeedIdentical = a.h === b.h && JSON.stringify(a.p) === JSON.stringify(b.p);
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-qat-acc-'));
  try {
    await a.net.saveParams(join(dir, 'model'));
    const c = new NeuralNetClassifier(opts);
    await c.loadParams(join(dir, 'model'));
    const saveLoadIdentical = JSON.stringify(c.predictProba(data.Xtest)) === JSON.stringify(a.p);
    c.dispose();
    return { sameSeedIdentical, saveLoadIdentical };
  } finally {
    a.net.dispose();
    b.net.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  await useBackend('auto', { quiet: true });
  const seeds = (arg('seeds') ?? '0,1,2').split(',').map(Number);
  const only = arg('only')?.split(',');
  const rows: Array<Record<string, unknown>> = [];
  for (const cfg of CONFIGS) {
    if (only !== undefined && !only.some((o) => cfg.name.startsWith(o))) continue;
    const data = cfg.data();
    const runs: RunResult[] = [];
    for (const seed of seeds) {
      const r = await runOne(cfg, data, seed);
      runs.push(r);
      process.stderr.write(`${cfg.name} seed ${seed}: ${r.score.toFixed(4)} (${r.seconds.toFixed(1)} s, acc bits ${r.maxAccumulatorBits}${r.fanInOk === null ? '' : `, fan-in ok ${String(r.fanInOk)}`})\n`);
    }
    const mean = runs.reduce((s, r) => s + r.score, 0) / runs.length;
    const fanInOk = runs.every((r) => r.fanInOk !== false);
    rows.push({ name: cfg.name, metric: cfg.task === 'classification' ? 'accuracy' : 'R^2', mean, threshold: cfg.threshold,
      pass: mean >= cfg.threshold && fanInOk, perSeed: runs.map((r) => r.score), maxAccumulatorBits: Math.max(...runs.map((r) => r.maxAccumulatorBits)),
      fanInOk: cfg.checkFanIn === true ? fanInOk : null, seconds: runs.reduce((s, r) => s + r.seconds, 0) });
  }
  const repro = only === undefined || only.includes('repro') ? await reproducibility() : null;
  console.log('| configuration | metric | mean | per seed | threshold | pass | acc bits |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${String(r['name'])} | ${String(r['metric'])} | ${(r['mean'] as number).toFixed(4)} | ${(r['perSeed'] as number[]).map((v) => v.toFixed(4)).join(', ')} | ${String(r['threshold'])} | ${r['pass'] === true ? 'yes' : 'NO'} | ${String(r['maxAccumulatorBits'])} |`);
  }
  if (repro !== null) console.log(`same seed identical: ${String(repro.sameSeedIdentical)}; save/load identical: ${String(repro.saveLoadIdentical)}`);
  console.log(JSON.stringify({ seeds, results: rows, reproducibility: repro }));
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''))) {
  void main(); // no top-level await: tests import this module (see scripts/cli.ts)
}
