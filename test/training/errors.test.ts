import { expect } from 'chai';
import { ConfigError, DataError } from '../../src/errors.js';
import { NeuralNetClassifier, NeuralNetRegressor } from '../../src/training/index.js';
import { editDistance, nearestKey, paramsFor } from '../../src/training/params.js';
import { toFeatures } from '../../src/training/data.js';
import { blobs, denseMlp } from './fixtures.js';

async function rejects(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('training/data validation', () => {
  const clf = (): NeuralNetClassifier => new NeuralNetClassifier({ module: denseMlp, maxEpochs: 1, verbose: 0, trainSplit: null });

  it('rejects NaN / Infinity with the row and column', async () => {
    const e = await rejects(clf().fit([[1, 2], [3, NaN]], [0, 1]));
    expect(e).to.be.instanceOf(DataError);
    expect(e.message).to.match(/X contains NaN at row 1, column 1/);
    expect((await rejects(clf().fit([[1, Infinity], [3, 4]], [0, 1]))).message).to.match(/Infinity at row 0, column 1/);
  });

  it('rejects ragged rows, empty sets, wrong y length, non-numbers and bad flat shapes', async () => {
    expect((await rejects(clf().fit([[1, 2], [3]], [0, 1]))).message).to.match(/ragged: row 1 has 1 values, row 0 has 2/);
    expect((await rejects(clf().fit([], []))).message).to.match(/X is empty/);
    expect((await rejects(clf().fit([[1], [2], [3]], [0, 1]))).message).to.match(/y has 2 entries but X has 3 samples/);
    expect((await rejects(clf().fit([[1], ['a' as unknown as number]], [0, 1]))).message).to.match(/X\[1\]\[0\] is "a"/);
    expect(() => toFeatures({ data: new Float32Array(5), shape: [2, 3] })).to.throw(DataError, /5 values but shape \[2, 3\] needs 6/);
  });

  it('rejects a single class, mixed label types, and unseen labels at score time', async () => {
    expect((await rejects(clf().fit([[1], [2]], [1, 1]))).message).to.match(/single class \(1\).*at least two/);
    expect((await rejects(clf().fit([[1], [2]], [1, 'a']))).message).to.match(/mixes numbers and strings/);
    const { X, y } = blobs(30, ['a', 'b']);
    const c = clf();
    await c.fit(X, y);
    expect(() => c.score(X.slice(0, 2), ['a', 'zebra'])).to.throw(DataError, /y\[1\] = "zebra" is not one of the classes seen during fit \["a", "b"\]/);
    expect(() => c.predict([[1, 2, 3]])).to.throw(DataError, /samples of shape \[3\] but the model was fitted on \[4\]/);
    c.dispose();
  });

  it('rejects non-numeric regression targets', async () => {
    const r = new NeuralNetRegressor({ module: denseMlp, verbose: 0 });
    expect((await rejects(r.fit([[1], [2]], [1, 'x' as unknown as number]))).message).to.match(/y\[1\] is "x"; .*finite numbers/);
  });
});

describe('training/params', () => {
  it('edit distance and nearest key', () => {
    expect(editDistance('kitten', 'sitting')).to.equal(3);
    expect(nearestKey('module__nWbit', ['module__nWBits', 'module__nABits'])).to.equal('module__nWBits');
    expect(nearestKey('zzzzzzzzzzzz', ['lr'])).to.equal(undefined);
    expect(paramsFor({ module__a: 1, module__b__c: 2, lr: 3 }, 'module')).to.deep.equal({ a: 1, b__c: 2 });
  });

  it('unknown keys are ConfigErrors that suggest the nearest valid key', () => {
    expect(() => new NeuralNetClassifier({ maxEpoch: 3 } as never)).to.throw(ConfigError, /unknown parameter 'maxEpoch'; did you mean maxEpochs\?/);
    expect(() => new NeuralNetClassifier({ module__nWbits: 3 })).to.throw(ConfigError, /unknown parameter 'module__nWbits'; did you mean module__nWBits\?/);
    expect(() => new NeuralNetClassifier({ module: denseMlp, module__hiden: 3 })).to.throw(ConfigError, /did you mean module__hidden\?/);
    expect(() => new NeuralNetClassifier({ optimizer__beta: 0.9 })).to.throw(ConfigError, /did you mean optimizer__beta1\?/);
    expect(() => new NeuralNetClassifier({ callbacks__printlg__sink: null })).to.throw(ConfigError, /did you mean callbacks__printLog\?/);
    expect(() => new NeuralNetClassifier({ module__inputDim: 3 })).to.throw(ConfigError, /set from the data by fit/);
    expect(() => new NeuralNetClassifier({ lr: -1 })).to.throw(ConfigError, /lr must be a positive number; got -1/);
    expect(() => new NeuralNetClassifier({ trainSplit: 1.5 })).to.throw(ConfigError, /fraction must be in \(0, 1\); got 1.5/);
  });

  it('module__* values reach the module builder; getParams round-trips', async () => {
    const clf = new NeuralNetClassifier({ module: denseMlp, module__hidden: 7, maxEpochs: 1, verbose: 0 });
    const { X, y } = blobs(20, [0, 1]);
    await clf.fit(X, y);
    expect(clf.model.layers[0]?.getWeights()[0]?.shape).to.deep.equal([4, 7]);
    clf.setParams({ module__hidden: 3 });
    expect(clf.getParams()['module__hidden']).to.equal(3);
    expect(clf.initialized_).to.equal(false);
    await clf.fit(X, y);
    expect(clf.model.layers[0]?.getWeights()[0]?.shape).to.deep.equal([4, 3]);
    clf.dispose();
  });
});
