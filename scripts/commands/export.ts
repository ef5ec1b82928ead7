/**
 * `tfjs-qat export`: export a trained model (a `train` output folder, or a folder written by saveModel) to a
 * mixed-integer circuit calibrated on a CSV file, or to ONNX (QCDQ / QONNX). Prints the bit-width report.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { Argv } from 'yargs';
import { ConfigError, DataError, ModelFileError } from '../../src/errors.js';
import { loadModel, writeFileAtomic } from '../../src/layers/index.js';
import { exportCircuit } from '../../src/export/to_circuit.js';
import { formatReport, type BitWidthReport } from '../../src/export/report.js';
import { exportOnnxToFile } from '../../src/export/onnx/index.js';
import { isTreeModelDir, loadTreeEstimator } from '../../src/trees/fhe/index.js';
import { readCsv } from '../lib/csv.js';
import { applyStandardizer, type Standardizer } from '../lib/standardize.js';
import type { CliCommand } from './command.js';

/** What `train` writes to preprocessing.json (the fields used here). */
export interface Preprocessing {
  readonly featureNames?: string[];
  readonly target?: string;
  readonly task?: 'classification' | 'regression';
  readonly standardize?: Standardizer;
  readonly classes?: Array<number | string> | null;
}

/** Load a model folder: `DIR/model` + `DIR/preprocessing.json` (train output) or `DIR` itself (saveModel). */
export async function loadModelDir(dir: string): Promise<{ model: tf.LayersModel; modelDir: string; preprocessing: Preprocessing | null }> {
  const sub = join(dir, 'model');
  const modelDir = existsSync(join(sub, 'model.json')) ? sub : dir;
  if (!existsSync(join(modelDir, 'model.json'))) throw new ModelFileError(`no model in '${dir}': expected ${join(dir, 'model', 'model.json')} (a train output folder) or ${join(dir, 'model.json')}`);
  const model = await loadModel(modelDir);
  const preprocessing = readPreprocessing(dir);
  return { model, modelDir: resolve(modelDir), preprocessing };
}

/**
 * Features (standardized as at training) and the target column (when present) of a CSV file.
 * Columns are picked by the training feature names when known, else every column but `target` / the last one.
 */
export function readFeatures(path: string, pp: Preprocessing | null, nFeatures?: number): { X: number[][]; y: string[] | null } {
  const t = readCsv(path);
  let cols: number[];
  let ti: number;
  if (pp?.featureNames !== undefined) {
    cols = pp.featureNames.map((name) => {
      const i = t.header.indexOf(name);
      if (i < 0) throw new DataError(`${path}: feature column '${name}' (used at training) is missing; columns are ${t.header.join(', ')}`);
      return i;
    });
    ti = pp.target !== undefined ? t.header.indexOf(pp.target) : -1;
  } else {
    const all = t.header.map((_, i) => i);
    ti = nFeatures !== undefined && t.header.length === nFeatures ? -1 : t.header.length - 1;
    cols = all.filter((i) => i !== ti);
  }
  const X = t.rows.map((r, li) => cols.map((c) => {
    const v = Number(r[c]);
    if (r[c] === '' || !Number.isFinite(v)) throw new DataError(`${path} line ${li + 2}, column '${t.header[c] ?? c}': '${r[c] ?? ''}' is not a number`);
    return v;
  }));
  const Xs = pp?.standardize !== undefined ? applyStandardizer(pp.standardize, X) : X;
  return { X: Xs, y: ti >= 0 ? t.rows.map((r) => r[ti] ?? '') : null };
}

/** Parsed options of `export`. */
export interface ExportArgs {
  model: string;
  calibration: string | undefined;
  out: string;
  roundingBits: number | undefined;
  maxBitWidth: number;
  format: 'circuit' | 'qcdq' | 'qonnx';
  json: boolean;
}

/** The calibration CSV, required by circuit exports. @throws ConfigError naming the fix. */
function requireCalibration(a: ExportArgs): string {
  if (a.calibration === undefined || a.calibration === '') {
    throw new ConfigError('--calibration FILE.csv is required for --format circuit: its rows size the integer ranges and tables (use the training data)');
  }
  return a.calibration;
}

/** Read `DIR/preprocessing.json` when present. */
export function readPreprocessing(dir: string): Preprocessing | null {
  const pp = join(dir, 'preprocessing.json');
  if (!existsSync(pp)) return null;
  try {
    return JSON.parse(readFileSync(pp, 'utf8')) as Preprocessing;
  } catch (e) {
    throw new ModelFileError(`${pp} is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

/**
 * Export a tree model folder (`train --model tree|forest|boosting`, or `save(dir)`) to a circuit. The per-feature
 * input quantizer runs in the clear: it is recorded as `meta.preprocessing.standardize` (mean = min, std = step),
 * which `simulate` applies before the circuit's input quantizer (scale 1).
 */
export function runTreeExport(a: ExportArgs, log: (s: string) => void): BitWidthReport {
  if (a.format !== 'circuit') throw new ConfigError(`--format ${a.format} is for networks; a tree model exports only to --format circuit`);
  if (a.roundingBits !== undefined) throw new ConfigError('--rounding-bits does not apply to tree models (their table lookups are already at most nBits + 1 bits); drop it');
  const est = loadTreeEstimator(a.model);
  const q = est.quantizer_;
  if (q === undefined) throw new ModelFileError(`${a.model}: the tree model is not fitted`);
  const pp = readPreprocessing(a.model);
  const calibration = requireCalibration(a);
  const { X } = readFeatures(calibration, pp === null ? null : { ...pp, standardize: undefined }, q.nFeatures);
  const preprocessing = { ...(pp ?? {}), standardize: { mean: [...q.mins], std: [...q.scales] } };
  const circuit = est.compile(X, { modelDir: resolve(a.model), calibration: resolve(calibration), preprocessing });
  if (circuit.report.maxTluInputBits > a.maxBitWidth) {
    throw new ConfigError(`the tree circuit needs ${circuit.report.maxTluInputBits}-bit table lookups, above --max-bit-width ${a.maxBitWidth}; retrain with fewer --n-bits`);
  }
  writeFileAtomic(a.out, JSON.stringify(circuit));
  const report = circuit.report;
  if (a.json) log(JSON.stringify({ out: a.out, report: { ...report, nodes: undefined }, nodes: report.nodes.length }));
  else {
    log(formatReport(report));
    log(`wrote ${a.out} (${(report.jsonBytes / 1e6).toFixed(2)} MB)`);
  }
  return report;
}

/** Run `export`; returns the report (null for ONNX formats). */
export async function runExport(a: ExportArgs, log: (s: string) => void = (s) => { process.stdout.write(`${s}\n`); }): Promise<BitWidthReport | null> {
  if (isTreeModelDir(a.model)) return runTreeExport(a, log);
  const { model, modelDir, preprocessing } = await loadModelDir(a.model);
  try {
    if (a.format === 'qcdq' || a.format === 'qonnx') {
      exportOnnxToFile(model, a.out, { format: a.format });
      const note = preprocessing?.standardize !== undefined ? ' (inputs must be standardized with the statistics in preprocessing.json)' : '';
      log(a.json ? JSON.stringify({ out: a.out, format: a.format }) : `wrote ${a.format.toUpperCase()} ONNX model to ${a.out}${note}`);
      return null;
    }
    if (a.format !== 'circuit') throw new ConfigError(`--format must be circuit, qcdq or qonnx; got ${String(a.format)}`);
    const shape = model.inputs[0]?.shape ?? [];
    const nFeatures = shape.slice(1).reduce((x: number, y) => x * (y ?? 1), 1);
    const calibration = requireCalibration(a);
    const { X } = readFeatures(calibration, preprocessing, nFeatures);
    const { circuit, report } = exportCircuit(model, X, {
      ...(a.roundingBits !== undefined ? { roundingThresholdBits: a.roundingBits } : {}), maxBitWidth: a.maxBitWidth,
      ...(preprocessing?.task !== undefined ? { task: preprocessing.task } : {}),
      meta: { modelDir, calibration: resolve(calibration), preprocessing },
    });
    writeFileAtomic(a.out, JSON.stringify(circuit));
    if (a.json) log(JSON.stringify({ out: a.out, report: { ...report, nodes: undefined }, nodes: report.nodes.length }));
    else {
      log(formatReport(report));
      log(`wrote ${a.out} (${(report.jsonBytes / 1e6).toFixed(2)} MB)`);
    }
    return report;
  } finally {
    model.dispose();
  }
}

/** The yargs command module. */
export const exportCommand: CliCommand<ExportArgs> = {
  command: 'export',
  describe: 'export a trained model to a mixed-integer FHE circuit (or to ONNX)',
  builder: (y: Argv) => y
    .option('model', { type: 'string', demandOption: true, describe: 'train output folder (network or tree model), or a saveModel folder' })
    .option('calibration', { type: 'string', describe: 'CSV file of calibration rows (usually the training data); required for --format circuit' })
    .option('out', { type: 'string', demandOption: true, describe: 'output file (circuit.json or model.onnx)' })
    .option('rounding-bits', { type: 'number', describe: 'round accumulators to n (2..8) most significant bits before each table lookup' })
    .option('max-bit-width', { type: 'number', default: 16, describe: 'largest table-lookup input bit width' })
    .option('format', { choices: ['circuit', 'qcdq', 'qonnx'] as const, default: 'circuit' as const })
    .option('json', { type: 'boolean', default: false, describe: 'print one JSON object' }) as unknown as Argv<ExportArgs>,
  handler: async (args) => {
    await runExport(args);
  },
};

export default exportCommand;
