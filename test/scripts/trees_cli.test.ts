import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yargs, { type Argv } from 'yargs';
import { main } from '../../scripts/cli.js';
import { capture } from '../helpers/capture.js';
import { trainCommand } from '../../scripts/commands/train.js';
import { addTreeTrainOptions, isTreeModelArg, trainTreeFromCli, type TrainTreeSummary } from '../../scripts/commands/train_tree.js';
import { DATA_DIR } from '../../scripts/fixtures/datasets.js';
import { ConfigError, DataError } from '../../src/errors.js';
import { loadTreeEstimator } from '../../src/trees/fhe/index.js';


describe('scripts: tree models through train / export / simulate', function () {
  this.timeout(60000);
  let dir = '';
  const iris = join(DATA_DIR, 'iris.csv');
  const bc = join(DATA_DIR, 'breast_cancer.csv');
  before(() => { dir = mkdtempSync(join(tmpdir(), 'tfjs-qat-trees-cli-')); });
  after(() => { rmSync(dir, { recursive: true, force: true }); });

  it('forest on breast cancer: train (JSON summary, saved files) -> export circuit -> simulate with 100% agreement', async () => {
    const out = join(dir, 'bc_forest');
    const t = await capture(() => trainTreeFromCli({ data: bc, model: 'forest', out, json: true, seed: 1 }));
    const s = JSON.parse(t.out.trim()) as TrainTreeSummary;
    expect(s).to.include({ model: 'forest', estimator: 'RandomForestClassifier', task: 'classification', metric: 'accuracy', nBits: 6, nTrain: 427, nTest: 142, maxTluInputBits: 7, circuitAgreement: 1 });
    expect(s.testScore).to.be.above(0.88);
    expect(s.floatTestScore).to.be.a('number');
    expect(Math.abs(s.testScore - (s.floatTestScore as number))).to.be.below(0.05);
    for (const f of ['tree_model.json', 'preprocessing.json', 'summary.json']) expect(existsSync(join(out, f)), f).to.equal(true);
    expect(loadTreeEstimator(out).getParams()).to.include({ nEstimators: 20, maxDepth: 4, nBits: 6, seed: 1 });

    const circuitPath = join(dir, 'bc_forest.json');
    const e = await capture(() => main(['export', '--model', out, '--calibration', bc, '--out', circuitPath, '--json']));
    expect(e.value, e.err).to.equal(0);
    const rep = JSON.parse(e.out.trim()) as { report: { maxTluInputBits: number; agreement: { predictionAgreement: number; samples: number } } };
    expect(rep.report.maxTluInputBits).to.equal(7);
    expect(rep.report.agreement).to.include({ predictionAgreement: 1, samples: 569 });
    const circuit = JSON.parse(readFileSync(circuitPath, 'utf8')) as { meta: { preprocessing: { standardize: { mean: number[]; std: number[] } } } };
    expect(circuit.meta.preprocessing.standardize.mean).to.have.length(30);

    const r = await capture(() => main(['simulate', '--circuit', circuitPath, '--data', bc, '--json']));
    expect(r.value, r.err).to.equal(0);
    const sim = JSON.parse(r.out.trim()) as { samples: number; accuracy: number; agreementWithModel: number; maxTluInputBits: number; clampedLookups: number };
    expect(sim).to.include({ samples: 569, agreementWithModel: 1, maxTluInputBits: 7, clampedLookups: 0 });
    expect(sim.accuracy).to.be.above(0.9);
  });

  it('string labels, boosting and a regression tree; text output', async () => {
    const csv = join(dir, 'iris_named.csv');
    const lines = readFileSync(iris, 'utf8').trim().split('\n');
    writeFileSync(csv, [lines[0], ...lines.slice(1).map((l) => l.replace(/,(\d)$/, (_, c: string) => `,${['setosa', 'versicolor', 'virginica'][Number(c)]}`))].join('\n'));
    const out = join(dir, 'iris_boost');
    const t = await capture(() => trainTreeFromCli({ data: csv, model: 'boosting', nEstimators: 5, maxDepth: 2, out }));
    expect(t.value.classes).to.deep.equal(['setosa', 'versicolor', 'virginica']);
    expect(t.out).to.match(/test accuracy: 0\.\d{4} .*float boosting on the same rows: n\/a/);
    expect(t.out).to.match(/largest table-lookup input: 7 bits; circuit simulation = quantized model on 100\.00% of test rows/);
    const cp = join(dir, 'iris_boost.json');
    expect((await capture(() => main(['export', '--model', out, '--calibration', csv, '--out', cp]))).out).to.match(/largest TLU input: 7 bits/);
    const r = await capture(() => main(['simulate', '--circuit', cp, '--data', csv]));
    expect(r.out).to.match(/accuracy: (9\d|100)\.\d\d%/);
    expect(r.out).to.match(/agreement with the trained model: 100\.00%/);

    const diab = join(DATA_DIR, 'diabetes.csv');
    const rt = await capture(() => trainTreeFromCli({ data: diab, model: 'tree', maxDepth: 3, nBits: 5, out: join(dir, 'diab'), json: true }));
    expect(rt.value).to.include({ task: 'regression', metric: 'r2', circuitAgreement: 1, maxTluInputBits: 6 });
    expect(rt.value.testScore).to.be.above(0);
    const dp = join(dir, 'diab.json');
    expect((await capture(() => main(['export', '--model', join(dir, 'diab'), '--calibration', diab, '--out', dp]))).value).to.equal(0);
    const rs = await capture(() => main(['simulate', '--circuit', dp, '--data', diab, '--json']));
    expect(JSON.parse(rs.out.trim())).to.include({ samples: 442, agreementWithModel: 1, accuracy: null });
  });

  it('errors: bad options and formats exit 2 with a clear message', async () => {
    await capture(() => trainTreeFromCli({ data: iris, model: 'tree', out: join(dir, 'dt'), json: true }));
    const e1 = await capture(() => main(['export', '--model', join(dir, 'dt'), '--calibration', iris, '--out', join(dir, 'x.onnx'), '--format', 'qcdq']));
    expect(e1.value).to.equal(2);
    expect(e1.err).to.match(/--format qcdq is for networks; a tree model exports only to --format circuit/);
    const e2 = await capture(() => main(['export', '--model', join(dir, 'dt'), '--calibration', iris, '--out', join(dir, 'x.json'), '--rounding-bits', '4']));
    expect(e2.err).to.match(/--rounding-bits does not apply to tree models/);
    const e3 = await capture(() => main(['export', '--model', join(dir, 'dt'), '--calibration', iris, '--out', join(dir, 'x.json'), '--max-bit-width', '6']));
    expect(e3.err).to.match(/needs 7-bit table lookups, above --max-bit-width 6/);
    let err: unknown;
    try { await trainTreeFromCli({ data: iris, model: 'forest', testSize: 1.5, out: join(dir, 'bad') }); } catch (x) { err = x; }
    expect(err).to.be.instanceOf(ConfigError);
    expect(String(err)).to.match(/--test-size must be in \(0, 1\); got 1.5/);
    try { await trainTreeFromCli({ data: iris, model: 'forest', nBits: 0, out: join(dir, 'bad') }); } catch (x) { err = x; }
    expect(String(err)).to.match(/nBits must be an integer in \[1, 16\], received 0/);
    try { await trainTreeFromCli({ data: join(dir, 'none.csv'), model: 'forest', out: join(dir, 'bad') }); } catch (x) { err = x; }
    expect(err).to.be.instanceOf(DataError);
  });

  it('the train command wiring (addTreeTrainOptions + isTreeModelArg) parses --model forest under strict yargs', async () => {
    let got: unknown = null;
    const argv = ['train', '--data', iris, '--model', 'forest', '--n-estimators', '3', '--max-depth', '2', '--n-bits', '4', '--out', join(dir, 'wired'), '--json'];
    await yargs(argv).strict().command({
      command: 'train', describe: 'train',
      builder: (y: Argv) => addTreeTrainOptions(trainCommand.builder(y)),
      handler: async (a) => { if (isTreeModelArg(a)) got = (await capture(() => trainTreeFromCli(a))).value; },
    }).parseAsync();
    expect(got).to.include({ model: 'forest', nBits: 4, maxTluInputBits: 5 });
    expect(loadTreeEstimator(join(dir, 'wired')).getParams()).to.include({ nEstimators: 3, maxDepth: 2, nBits: 4 });
  });
});
