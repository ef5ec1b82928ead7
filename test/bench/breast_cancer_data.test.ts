import { expect } from 'chai';
import { loadBreastCancer, stratifiedSplit } from '../../bench/workloads/breast_cancer_data.js';

describe('bench breast-cancer data', () => {
  it('splits 569 rows stratified 75/25 and standardizes on the train rows', () => {
    const ds = loadBreastCancer();
    expect(ds.xTrain.length + ds.xTest.length).to.equal(569);
    expect(ds.yTest.filter((v) => v === 0).length).to.equal(Math.round(212 * 0.25));
    expect(ds.yTest.filter((v) => v === 1).length).to.equal(Math.round(357 * 0.25));
    const col0 = ds.xTrain.map((r) => r[0] ?? NaN);
    const mean = col0.reduce((a, b) => a + b, 0) / col0.length;
    const variance = col0.reduce((a, b) => a + (b - mean) ** 2, 0) / col0.length;
    expect(mean).to.be.closeTo(0, 1e-9);
    expect(variance).to.be.closeTo(1, 1e-9);
  });

  it('is deterministic per seed', () => {
    const x = Array.from({ length: 20 }, (_, i) => [i, 2 * i]);
    const y = x.map((_, i) => i % 2);
    const a = stratifiedSplit(x, y, 0.25, 's');
    expect(stratifiedSplit(x, y, 0.25, 's')).to.deep.equal(a);
    expect(a.yTest.length).to.equal(6); // round(10 * 0.25) = 3 per class
  });
});
