/**
 * Tree models as tensors (issue 7): convertTrees with each Hummingbird strategy against the source library's own
 * predict, on rows resampled from breast cancer with multiplicative jitter. ml-random-forest
 * RandomForestClassifier (20 trees, depth 4) and an ml-cart DecisionTreeClassifier (depth 4). Each timing starts
 * from the same number[][] and ends with the classes as numbers (tensor creation and read-back included).
 */
import * as tf from '@tensorflow/tfjs';
import { DecisionTreeClassifier } from 'ml-cart';
import { RandomForestClassifier } from 'ml-random-forest';
import seedrandom from 'seedrandom';
import { convertTrees } from '../../src/trees/tensor/convert_trees.js';
import { median, peakRssMB } from '../harness.js';
import type { CustomContext, CustomWorkload, TreeStrategyTiming, TreesResult } from '../types.js';
import { loadBreastCancer } from './breast_cancer_data.js';

/** Rows per timing: 100,000 (the size), 10,000 under --quick. */
export function treeRows(quick: boolean): number {
  return quick ? 10000 : 100000;
}

const STRATEGIES = ['gemm', 'treeTraversal', 'perfectTreeTraversal'] as const;

function timeMs(reps: number, fn: () => void): number {
  const ms: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

async function run(ctx: CustomContext): Promise<TreesResult> {
  const tensorsBefore = tf.memory().numTensors;
  const n = treeRows(ctx.quick);
  const reps = ctx.quick ? 1 : 3;
  const ds = loadBreastCancer();
  const nf = ds.xTrain[0]?.length ?? 0;
  const rng = seedrandom('bench-trees');
  const X = Array.from({ length: n }, () => ds.xTrain[Math.floor(rng() * ds.xTrain.length)]!.map((v) => v * (0.95 + 0.1 * rng())));
  const dt = new DecisionTreeClassifier({ maxDepth: 4 });
  dt.train(ds.xTrain, ds.yTrain);
  const rf = new RandomForestClassifier({ nEstimators: 20, seed: 1, noOOB: true, treeOptions: { maxDepth: 4 } });
  rf.train(ds.xTrain, ds.yTrain);
  const models: Array<[string, { predict(x: number[][]): number[] }]> = [
    ['ml-random-forest 20 trees depth 4', rf],
    ['ml-cart tree depth 4', dt],
  ];
  const out: TreesResult['models'][number][] = [];
  for (const [name, model] of models) {
    let want: number[] = [];
    model.predict(X.slice(0, 1000));
    const libraryMs = timeMs(reps, () => { want = model.predict(X); });
    const strategies: TreeStrategyTiming[] = [];
    for (const strategy of STRATEGIES) {
      const m = convertTrees(model, { strategy, nFeatures: nf });
      const once = (rows: number[][]): Float32Array | Int32Array => {
        const p = m.predict(rows); // rows as given to the library: convertTrees flattens them itself
        const v = p.dataSync() as Float32Array | Int32Array;
        p.dispose();
        return v;
      };
      once(X.slice(0, 1000));
      let got: Float32Array | Int32Array = new Int32Array(0);
      const ms = timeMs(reps, () => { got = once(X); });
      m.dispose();
      strategies.push({ strategy, ms, speedup: libraryMs / ms, identical: got.length === want.length && want.every((v, i) => v === got[i]) });
    }
    out.push({ model: name, libraryMs, strategies });
  }
  return {
    kind: 'trees',
    workload: 'trees',
    backend: tf.getBackend(),
    kernels: ctx.kernels,
    rows: n,
    models: out,
    peakRssMB: peakRssMB(),
    leakedTensors: tf.memory().numTensors - tensorsBefore,
  };
}

/** Workload 'trees'. */
export const trees: CustomWorkload = {
  kind: 'custom',
  name: 'trees',
  description: 'convertTrees (gemm / treeTraversal / perfectTreeTraversal) vs ml-random-forest (20 trees, depth 4) and ml-cart (depth 4) predict, 100,000 rows (10,000 with --quick)',
  run,
};
