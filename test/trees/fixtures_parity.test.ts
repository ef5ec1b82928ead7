import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertTrees } from '../../src/trees/tensor/convert_trees.js';
import type { TreeStrategy } from '../../src/trees/tensor/strategy.js';

interface Fixture {
  versions: Record<string, string>;
  dataset: string;
  model: unknown;
  X: number[][];
  predict: number[];
  predict_proba?: number[][];
}

const DIR = join(process.cwd(), 'test/fixtures/trees');
const STRATEGIES: (TreeStrategy | 'auto')[] = ['gemm', 'treeTraversal', 'perfectTreeTraversal', 'auto'];

describe('trees: scikit-learn and XGBoost fixtures (made by scripts/fixtures/make_tree_fixtures.py)', function () {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
  it('has the ten fixtures, made with scikit-learn 1.2 and XGBoost 1.7', () => {
    expect(files).to.have.length(10);
    const f = JSON.parse(readFileSync(join(DIR, files[0] as string), 'utf8')) as Fixture;
    expect(f.versions['sklearn']).to.match(/^1\.2/);
    expect(f.versions['xgboost']).to.match(/^1\.7/);
  });
  for (const file of files) {
    const fx = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Fixture;
    for (const strategy of STRATEGIES) {
      it(`${file.replace('.json', '')} with ${strategy}: identical classes / values, probabilities within 1e-6`, () => {
        const m = convertTrees(fx.model, { strategy });
        const pred = m.predict(fx.X);
        const got = Array.from(pred.dataSync());
        if (m.ensemble.kind === 'classifier') {
          expect(got).to.deep.equal(fx.predict);
          const proba = m.predictProba(fx.X);
          const p = proba.arraySync();
          let worst = 0;
          p.forEach((r, i) => r.forEach((v, j) => { worst = Math.max(worst, Math.abs(v - (fx.predict_proba?.[i]?.[j] as number))); }));
          expect(worst).to.be.below(1e-6);
          proba.dispose();
        } else {
          got.forEach((v, i) => expect(Math.abs(v - (fx.predict[i] as number))).to.be.at.most(1e-6 * Math.abs(fx.predict[i] as number)));
        }
        pred.dispose();
        m.dispose();
      });
    }
  }
});
