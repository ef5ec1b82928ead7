/**
 * `tfjs-qat simulate`: run a circuit on a CSV file with integer arithmetic only (Concrete ML's fhe="simulate");
 * print accuracy, agreement with the trained model, the largest bit widths and the throughput.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { Argv } from 'yargs';
import { ModelFileError } from '../../src/errors.js';
import { parseCircuit } from '../../src/export/circuit_schema.js';
import { predictionsOf, simulateCircuit } from '../../src/export/simulate.js';
import type { BitWidthReport } from '../../src/export/report.js';
import { isTreeModelDir, loadTreeEstimator } from '../../src/trees/fhe/index.js';
import { loadModelDir, readFeatures, type Preprocessing } from './export.js';
import type { CliCommand } from './command.js';

/** Parsed options of `simulate`. */
export interface SimulateArgs {
  circuit: string;
  data: string;
  model: string | undefined;
  json: boolean;
}

/** What `simulate` reports. */
export interface SimulateSummary {
  readonly samples: number;
  readonly accuracy: number | null;
  readonly agreementWithModel: number | null;
  readonly maxBitWidth: number | null;
  readonly maxTluInputBits: number | null;
  readonly samplesPerSecond: number;
  readonly clampedLookups: number;
}

/** Run `simulate`; returns the summary (also printed). */
export async function runSimulate(a: SimulateArgs, log: (s: string) => void = (s) => { process.stdout.write(`${s}\n`); }): Promise<SimulateSummary> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(a.circuit, 'utf8'));
  } catch (e) {
    throw new ModelFileError(`cannot read the circuit ${a.circuit}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const c = parseCircuit(json);
  const meta = (c.source.meta ?? {}) as { modelDir?: string; preprocessing?: Preprocessing | null };
  const pp = meta.preprocessing ?? null;
  const { X, y } = readFeatures(a.data, pp, c.inputSize);
  const flat = Float32Array.from(X.flat());
  const t0 = process.hrtime.bigint();
  const sim = simulateCircuit(c, flat);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  let accuracy: number | null = null;
  if (y !== null && c.output.task === 'classification') {
    const classes = pp?.classes ?? null;
    accuracy = sim.predictions.filter((p, i) => String(classes !== null ? classes[p] : p) === String(y[i])).length / sim.n;
  }
  let agreement: number | null = null;
  const modelDir = a.model ?? (meta.modelDir !== undefined && existsSync(meta.modelDir) ? meta.modelDir : undefined);
  if (modelDir !== undefined && isTreeModelDir(modelDir)) {
    // Tree model: compare with the quantized model in the clear on the raw features (bit-identical expected).
    const est = loadTreeEstimator(modelDir);
    const { X: raw } = readFeatures(a.data, pp === null ? null : { ...pp, standardize: undefined }, c.inputSize);
    const ref = est.predict(raw);
    const mapped = c.output.task === 'classification' && est.classes_ !== undefined ? sim.predictions.map((p) => est.classes_?.[p] ?? -1) : sim.predictions;
    agreement = mapped.filter((p, i) => p === ref[i]).length / sim.n;
  } else if (modelDir !== undefined) {
    const { model } = await loadModelDir(modelDir);
    const out = tf.tidy(() => model.predict(tf.tensor(flat, [sim.n, ...c.inputShape])) as tf.Tensor);
    const ref = predictionsOf(out.dataSync(), sim.n, sim.outputSize, c.output.task, c.output.post);
    out.dispose();
    model.dispose();
    const same = (p: number, q: number): boolean => (c.output.task === 'classification' ? p === q : Math.round(p) === Math.round(q));
    agreement = sim.predictions.filter((p, i) => same(p, ref[i] as number)).length / sim.n;
  }
  const rep = (c.source.report ?? null) as BitWidthReport | null;
  const summary: SimulateSummary = {
    samples: sim.n, accuracy, agreementWithModel: agreement, maxBitWidth: rep?.maxBitWidth ?? null, maxTluInputBits: rep?.maxTluInputBits ?? null,
    samplesPerSecond: sim.n / Math.max(seconds, 1e-9), clampedLookups: sim.clampedLookups,
  };
  if (a.json) log(JSON.stringify(summary));
  else {
    log(`simulated ${sim.n} samples: ${summary.samplesPerSecond.toFixed(0)} samples/s`);
    if (accuracy !== null) log(`accuracy: ${(100 * accuracy).toFixed(2)}%`);
    log(agreement !== null ? `agreement with the trained model: ${(100 * agreement).toFixed(2)}%` : 'agreement with the trained model: n/a (no model folder; pass --model)');
    if (rep !== null) log(`largest integer bit width: ${rep.maxBitWidth}; largest TLU input: ${rep.maxTluInputBits} bits`);
    if (sim.clampedLookups > 0) log(`warning: ${sim.clampedLookups} table inputs fell outside the calibrated range and were clamped; calibrate on more representative data`);
  }
  return summary;
}

/** The yargs command module. */
export const simulateCommand: CliCommand<SimulateArgs> = {
  command: 'simulate',
  describe: 'run a circuit with integer arithmetic only (FHE simulation) on a CSV file',
  builder: (y: Argv) => y
    .option('circuit', { type: 'string', demandOption: true, describe: 'circuit.json written by export' })
    .option('data', { type: 'string', demandOption: true, describe: 'CSV file (with the target column for accuracy)' })
    .option('model', { type: 'string', describe: 'model folder (network or tree) for the agreement check (default: the one recorded in the circuit)' })
    .option('json', { type: 'boolean', default: false, describe: 'print one JSON object' }) as unknown as Argv<SimulateArgs>,
  handler: async (args) => {
    await runSimulate(args);
  },
};

export default simulateCommand;
