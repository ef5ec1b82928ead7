import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Checkpoint, EarlyStopping, EpochScoring, GradientNormClipping, LRScheduler, NeuralNetClassifier, PrintLog, ProgressBar,
  type Callback, type GradContext,
} from '../../src/training/index.js';
import { blobs, denseMlp } from './fixtures.js';

const { X, y } = blobs(120, [0, 1, 2]);
const base = { module: denseMlp, verbose: 0, batchSize: 32 } as const;

function weightsOf(net: NeuralNetClassifier): number[] {
  return net.model.getWeights().flatMap((w) => Array.from(w.dataSync()));
}

describe('training/callbacks', () => {
  it('EarlyStopping stops after `patience` epochs without improvement and can restore the best weights', async () => {
    // threshold 10 (relative): nothing after epoch 1 counts as an improvement
    const es = new EarlyStopping({ monitor: 'validLoss', patience: 2, threshold: 10, restoreBestWeights: true });
    let epoch1: number[] = [];
    const grab: Callback = { onEpochEnd: (ctx) => { if (ctx.epoch === 1) epoch1 = ctx.model.getWeights().flatMap((w) => Array.from(w.dataSync())); } };
    const net = new NeuralNetClassifier({ ...base, maxEpochs: 20, callbacks: [es, ['grab', grab]] });
    await net.fit(X, y);
    expect(net.history.length).to.equal(3);
    expect(es.bestEpoch).to.equal(1);
    expect(net.history.lastValue('restoredEpoch')).to.equal(1);
    expect(weightsOf(net)).to.deep.equal(epoch1);
    net.dispose();
  });

  it('LRScheduler step / cosine / reduceOnPlateau set and record the learning rate', async () => {
    const step = new NeuralNetClassifier({ ...base, lr: 0.1, maxEpochs: 5, callbacks: [new LRScheduler({ policy: 'step', stepSize: 2, gamma: 0.5 })] });
    await step.fit(X, y);
    expect(step.history.column('lr').map((v) => Number((v as number).toFixed(6)))).to.deep.equal([0.1, 0.1, 0.05, 0.05, 0.025]);
    const cos = new LRScheduler({ policy: 'cosine', tMax: 4 });
    expect([0, 1, 2, 4].map((e) => cos.lrAt(e, 1, 10))).to.deep.equal([1, (1 + Math.SQRT1_2) / 2, 0.5, 0]);
    expect(new LRScheduler({ policy: 'exponential', gamma: 0.5 }).lrAt(3, 1, 10)).to.equal(0.125);
    const plateau = new NeuralNetClassifier({ ...base, lr: 0.1, maxEpochs: 4,
      callbacks: [new LRScheduler({ policy: 'reduceOnPlateau', monitor: 'validLoss', patience: 0, threshold: 10, factor: 0.5 })] });
    await plateau.fit(X, y);
    expect(plateau.history.column('lr').map((v) => Number((v as number).toFixed(6)))).to.deep.equal([0.1, 0.1, 0.05, 0.025]);
    step.dispose();
    plateau.dispose();
  });

  it('onGradComputed can change gradients: zero gradients leave weights unchanged; clipping bounds the step', async () => {
    const zero: Callback = { onGradComputed: (ctx: GradContext) => { for (const k of Object.keys(ctx.grads)) ctx.grads[k] = tf.zerosLike(ctx.grads[k] as tf.Tensor); } };
    const net = new NeuralNetClassifier({ ...base, optimizer: 'sgd', maxEpochs: 2, callbacks: [['zero', zero]] });
    net.initialize({ inputShape: [4], nOutputs: 3 });
    const w0 = weightsOf(net);
    await net.partialFit(X, y);
    expect(weightsOf(net)).to.deep.equal(w0);
    // SGD lr 1, one full batch, clip to norm 1e-3: the update's global norm is <= 1e-3
    const clip = new NeuralNetClassifier({ ...base, optimizer: 'sgd', lr: 1, batchSize: -1, trainSplit: null, maxEpochs: 1, callbacks: [new GradientNormClipping({ maxNorm: 1e-3 })] });
    clip.initialize({ inputShape: [4], nOutputs: 3 });
    const c0 = weightsOf(clip);
    await clip.partialFit(X, y);
    const diff = Math.sqrt(weightsOf(clip).reduce((s, v, i) => s + (v - (c0[i] ?? 0)) ** 2, 0));
    expect(diff).to.be.greaterThan(1e-4).and.lessThan(1.0001e-3);
    net.dispose();
    clip.dispose();
  });

  it('callbacks are replaced and removed by name; PrintLog prints a table; EpochScoring records a score', async () => {
    const lines: string[] = [];
    const net = new NeuralNetClassifier({ ...base, verbose: 1, maxEpochs: 2,
      callbacks: [['printLog', new PrintLog({ sink: (l) => lines.push(l) })], new EpochScoring({ scoring: 'accuracy', name: 'vAcc2' })] });
    await net.fit(X, y);
    expect(lines[0]).to.match(/epoch\s+trainLoss\s+validLoss\s+validAcc\s+vAcc2\s+dur/);
    expect(lines).to.have.length(4);
    expect(net.history.lastValue('vAcc2')).to.equal(net.history.lastValue('validAcc'));
    expect(net.callbacks_.map(([n]) => n)).to.deep.equal(['epochTimer', 'vAcc2', 'printLog']);
    net.setParams({ callbacks__printLog: null, callbacks__epochTimer: null });
    await net.fit(X, y);
    expect(lines).to.have.length(4);
    expect(net.history.lastValue('dur')).to.equal(undefined);
    net.dispose();
  });

  it('Checkpoint saves the best epoch to a directory; ProgressBar draws per batch on a (forced) stream', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfjs-qat-cp-'));
    let drawn = '';
    const stream = { isTTY: false, write: (s: string) => { drawn += s; return true; } } as unknown as NodeJS.WriteStream;
    try {
      const net = new NeuralNetClassifier({ ...base, maxEpochs: 3, callbacks: [new Checkpoint({ dirname: join(dir, 'best') }), new ProgressBar({ stream, force: true })] });
      await net.fit(X, y);
      expect(existsSync(join(dir, 'best', 'params.json'))).to.equal(true);
      expect(net.history.column('eventCpt')[0]).to.equal(true);
      expect(drawn).to.match(/epoch 1 \[=+>?\s*\] 3\/3 loss \d\.\d{4}/);
      const silent = new ProgressBar({ stream });
      silent.onBatchEnd({ batch: 0, nBatches: 1, batchSize: 1, training: true } as never);
      net.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
