// Fast versions of scripts/acceptance/training_acceptance.ts: one seed, through the public estimator API,
// on the fixed splits of ../shared/data (skipped when that folder is absent).
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { CONFIGS, runOne } from '../../scripts/acceptance/training_acceptance.js';
import { DATA_DIR } from '../../scripts/acceptance/datasets.js';

const byName = (prefix: string): (typeof CONFIGS)[number] => {
  const c = CONFIGS.find((x) => x.name.startsWith(prefix));
  if (c === undefined) throw new Error(`no acceptance config ${prefix}`);
  return c;
};

// The thresholds are means over 3 seeds (scripts/acceptance/training_acceptance.ts measures them); one seed
// moves accuracy by 0.7 points per test sample (143 rows), so each single-seed check here sits one point lower.
describe('acceptance (fast: seed 0)', function () {
  before(function () {
    if (!existsSync(DATA_DIR)) this.skip();
  });

  it('breast cancer, 3 layers, 4/4 bits, accumulator 32: test accuracy >= 0.93 (issue: mean >= 0.94)', async () => {
    const cfg = byName('breast_cancer 4/4');
    const r = await runOne(cfg, cfg.data(), 0);
    expect(r.score).to.be.at.least(0.93);
  });

  it('breast cancer, 3/3 bits, accumulator 12: accuracy >= 0.91 (issue: mean >= 0.92) and every neuron fan-in <= maxActiveNeurons', async () => {
    const cfg = byName('breast_cancer 3/3 acc12');
    const r = await runOne(cfg, cfg.data(), 0);
    expect(r.fanInOk).to.equal(true);
    expect(r.maxAccumulatorBits).to.be.at.most(12);
    expect(r.score).to.be.at.least(0.91);
  });

  it('iris, 4/4 bits: accuracy >= 0.93', async () => {
    const cfg = byName('iris');
    const r = await runOne(cfg, cfg.data(), 0);
    expect(r.score).to.be.at.least(0.93);
  });
});
