import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../scripts/cli.js';
import { capture } from '../helpers/capture.js';


describe('scripts/cli train', () => {
  let dir = '';
  before(() => { dir = mkdtempSync(join(tmpdir(), 'tfjs-qat-cli-')); });
  after(() => { rmSync(dir, { recursive: true, force: true }); });

  it('bad CSVs exit with code 2 and a clear message', async () => {
    writeFileSync(join(dir, 'ragged.csv'), 'a,b,t\n1,2,0\n1,1\n');
    writeFileSync(join(dir, 'text.csv'), 'a,b,t\n1,2,0\nx,1,1\n');
    const r1 = await capture(() => main(['train', '--data', join(dir, 'ragged.csv'), '--out', join(dir, 'o')]));
    expect(r1.value).to.equal(2);
    expect(r1.err).to.match(/line 3: 2 values but the header has 3 columns/);
    const r2 = await capture(() => main(['train', '--data', join(dir, 'text.csv'), '--out', join(dir, 'o')]));
    expect(r2.value).to.equal(2);
    expect(r2.err).to.match(/column 'a': 'x' is not a finite number/);
    const r3 = await capture(() => main(['train', '--data', join(dir, 'text.csv'), '--target', 'nope', '--out', join(dir, 'o')]));
    expect(r3.err).to.match(/target column 'nope' not found/);
    const r4 = await capture(() => main(['train', '--out', join(dir, 'o')]));
    expect(r4.value).to.equal(2);
    expect(r4.err).to.match(/Missing required argument: data/);
    const r5 = await capture(() => main(['train', '--data', 'data/breast_cancer.csv', '--out', join(dir, 'o'), '--w-bits', '1', '--json']));
    expect(r5.value).to.equal(2);
    expect(r5.err).to.match(/nWBits must be an integer in \[2, 16\]; got 1/);
  });

  it('trains on a CSV, prints one JSON object and saves params, model, preprocessing and summary', async () => {
    const out = join(dir, 'bc');
    const r = await capture(() => main(['train', '--data', 'data/breast_cancer.csv', '--target', 'target', '--epochs', '2', '--batch-size', '64', '--out', out, '--json']));
    expect(r.value).to.equal(0);
    const s = JSON.parse(r.out.trim()) as Record<string, unknown>;
    expect(s['task']).to.equal('classification');
    expect(s['nTrain']).to.equal(427);
    expect(s['nTest']).to.equal(142);
    expect(s['testScore']).to.be.a('number');
    expect(s['worstCaseAccumulatorBits']).to.be.within(8, 32);
    for (const f of ['params/params.json', 'model/model.json', 'preprocessing.json', 'summary.json']) expect(existsSync(join(out, f)), f).to.equal(true);
    const pre = JSON.parse(readFileSync(join(out, 'preprocessing.json'), 'utf8')) as { standardize: { mean: number[] }; classes: number[] };
    expect(pre.standardize.mean).to.have.length(30);
    expect(pre.classes).to.deep.equal([0, 1]);
  });
});
