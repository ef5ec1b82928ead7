import { expect } from 'chai';
import { predictionsOf } from '../../src/export/simulate.js';

describe('export/predictionsOf', () => {
  it('single-output classifiers: threshold 0 on logits, 0.5 after a sigmoid output', () => {
    expect(predictionsOf([-0.2, 0.3, 0.4, 0.7], 4, 1, 'classification')).to.deep.equal([0, 1, 1, 1]);
    expect(predictionsOf([-0.2, 0.3, 0.4, 0.7], 4, 1, 'classification', 'sigmoid')).to.deep.equal([0, 0, 0, 1]);
  });
  it('argmax per row; regression returns the first value', () => {
    expect(predictionsOf([0.1, 0.9, 0.8, 0.2], 2, 2, 'classification')).to.deep.equal([1, 0]);
    expect(predictionsOf([1.5, 2.5], 2, 1, 'regression')).to.deep.equal([1.5, 2.5]);
  });
});
