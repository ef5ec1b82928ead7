import { expect } from 'chai';
import { DataError } from '../../src/errors.js';
import { inferTask, parseCsv, toDataset } from '../../scripts/lib/csv.js';
import { applyStandardizer, fitStandardizer } from '../../scripts/lib/standardize.js';
import { trainTestSplit } from '../../scripts/lib/split.js';

describe('scripts/lib csv, standardize, split', () => {
  it('parses a header, quoted cells and a string target', () => {
    const t = parseCsv('a,"b, c",label\n1,2,"x"\n3,4,y\n\n');
    expect(t.header).to.deep.equal(['a', 'b, c', 'label']);
    const d = toDataset(t);
    expect(d.X).to.deep.equal([[1, 2], [3, 4]]);
    expect(d.y).to.deep.equal(['x', 'y']);
    expect(toDataset(parseCsv('a,b\n1,2\n'), 'a').featureNames).to.deep.equal(['b']);
  });

  it('names the line and column of bad input', () => {
    expect(() => parseCsv('a,b\n1,2\n3\n', 'f.csv')).to.throw(DataError, /f\.csv line 3: 1 values but the header has 2 columns/);
    expect(() => toDataset(parseCsv('a,b,t\n1,2,0\n1,zz,1\n'), undefined, 'f.csv')).to.throw(DataError, /line 3, column 'b': 'zz' is not a finite number/);
    expect(() => toDataset(parseCsv('a,t\n1,0\n'), 'target', 'f.csv')).to.throw(DataError, /target column 'target' not found; columns are a, t/);
    expect(() => parseCsv('', 'f.csv')).to.throw(DataError, /empty/);
    expect(() => parseCsv('a,b\n', 'f.csv')).to.throw(DataError, /no data rows/);
  });

  it('infers the task', () => {
    expect(inferTask(['a', 'b'])).to.equal('classification');
    expect(inferTask([0, 1, 1, 0, 1, 0])).to.equal('classification');
    expect(inferTask([1.5, 2.5, 3.1, 4, 5, 6])).to.equal('regression');
    expect(inferTask(Array.from({ length: 100 }, (_, i) => i))).to.equal('regression');
  });

  it('standardizes with train statistics (population std, 0 -> 1)', () => {
    const s = fitStandardizer([[1, 5], [3, 5]]);
    expect(s).to.deep.equal({ mean: [2, 5], std: [1, 1] });
    expect(applyStandardizer(s, [[4, 6]])).to.deep.equal([[2, 1]]);
  });

  it('splits stratified and reproducibly', () => {
    const y = Array.from({ length: 40 }, (_, i) => (i < 30 ? 0 : 1));
    const a = trainTestSplit(40, 0.25, 3, y);
    // per class: round(30 * 0.25) = 8 and round(10 * 0.25) = 3
    expect(a.test).to.have.length(11);
    expect(a.test.filter((i) => i >= 30)).to.have.length(3);
    expect(trainTestSplit(40, 0.25, 3, y)).to.deep.equal(a);
    expect(trainTestSplit(40, 0.25, 4, y).test).to.not.deep.equal(a.test);
  });
});
