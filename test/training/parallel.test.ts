// Data-parallel training (workers option): same accuracy range as one thread, deterministic, gradients equal
// to the single-thread ones for a float model, quantizer statistics merged as documented, clear errors, and
// worker threads that never keep the process alive.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { ConfigError, QatError } from '../../src/errors.js';
import { NeuralNetClassifier, type Callback, type GradContext } from '../../src/training/index.js';
import { shutdownParallelWorkers, splitRows, chooseWorkerCount, estimateStepMflop } from '../../src/training/parallel/index.js';
import { makeStatefulRng, deriveSeed, shuffleInPlace } from '../../src/training/rng.js';
import { QuantIdentity } from '../../src/layers/index.js';
import { blobs, denseMlp } from './fixtures.js';

/** Records a copy of the first step's gradients. */
class FirstGrads implements Callback {
  grads: Record<string, Float32Array> | null = null;
  onGradComputed(ctx: GradContext): void {
    if (this.grads !== null) return;
    this.grads = {};
    ctx.variables.forEach((v, i) => { (this.grads as Record<string, Float32Array>)[`${i}:${v.variable.shape.join('x')}`] = (ctx.grads[v.name]?.dataSync() as Float32Array).slice(); });
  }
}

/** A layer registered in the training thread only: a worker cannot rebuild it. */
class MainOnlyLayer extends tf.layers.Layer {
  static className = 'MainOnlyLayerForParallelTest';
  override call(x: tf.Tensor | tf.Tensor[]): tf.Tensor { return Array.isArray(x) ? (x[0] as tf.Tensor) : x; }
}
tf.serialization.registerClass(MainOnlyLayer);

describe('training/parallel (workers option)', function () {
  this.timeout(180000);
  const { X, y } = blobs(512, [0, 1, 2, 3], 5);
  const { X: Xt, y: yt } = blobs(400, [0, 1, 2, 3], 6);
  const base = { module__nLayers: 2, maxEpochs: 6, lr: 0.01, batchSize: 128, trainSplit: null, verbose: 0, seed: 3 } as const;

  after(async () => { await shutdownParallelWorkers(); });

  it('splitRows gives contiguous parts, the first n % k one row larger', () => {
    expect(splitRows(128, 2)).to.deep.equal([[0, 64], [64, 128]]);
    expect(splitRows(5, 2)).to.deep.equal([[0, 3], [3, 5]]);
    expect(splitRows(1, 2)).to.deep.equal([[0, 1], [1, 1]]);
  });

  it('validates the option and picks 1 thread automatically for small steps', () => {
    expect(() => new NeuralNetClassifier({ workers: 0 })).to.throw(ConfigError, /workers must be 'auto' or an integer in \[1, 16\].*got 0/);
    expect(() => new NeuralNetClassifier({ workers: 'two' as unknown as number })).to.throw(ConfigError, /workers/);
    const small = tf.sequential({ layers: [tf.layers.dense({ inputShape: [30], units: 120 }), tf.layers.dense({ units: 2 })] });
    // 6 x (30*120 + 120*2) x 128 rows = 2.95 MFLOP
    expect(estimateStepMflop(small, 128)).to.be.closeTo(2.95, 0.01);
    expect(chooseWorkerCount('auto', { backend: 'wasm', builtInCriterion: true, model: small, batchRows: 128, loadAverage: 0 })).to.equal(1);
    const mlp = tf.sequential({ layers: [tf.layers.dense({ inputShape: [784], units: 256 }), tf.layers.dense({ units: 256 }), tf.layers.dense({ units: 10 })] });
    // 6 x 268,800 MACs x 512 rows = 825.8 MFLOP: two threads on an idle machine, one on a busy one
    expect(estimateStepMflop(mlp, 512)).to.be.closeTo(825.8, 0.1);
    const multi = availableParallelism() >= 2 ? 2 : 1;
    expect(chooseWorkerCount('auto', { backend: 'wasm', builtInCriterion: true, model: mlp, batchRows: 512, loadAverage: 0 })).to.equal(multi);
    expect(chooseWorkerCount('auto', { backend: 'wasm', builtInCriterion: true, model: mlp, batchRows: 512, loadAverage: 5 })).to.equal(1);
    expect(chooseWorkerCount('auto', { backend: 'wasm', builtInCriterion: true, model: mlp, batchRows: 128, loadAverage: 0 })).to.equal(1);
    mlp.dispose();
    expect(chooseWorkerCount(2, { backend: 'wasm', builtInCriterion: true, model: small, batchRows: 1 })).to.equal(1);
    small.dispose();
  });

  it('workers 2 reaches the accuracy range of workers 1 (quantized default module) without leaking tensors', async () => {
    const before = tf.memory().numTensors;
    const acc: Record<number, number> = {};
    for (const workers of [1, 2]) {
      const clf = new NeuralNetClassifier({ ...base, workers });
      await clf.fit(X, y);
      acc[workers] = clf.score(Xt, yt);
      clf.dispose();
    }
    expect(acc[1]).to.be.at.least(0.9);
    expect(acc[2]).to.be.at.least(0.9);
    expect(Math.abs((acc[2] ?? 0) - (acc[1] ?? 0))).to.be.at.most(0.05);
    expect(tf.memory().numTensors).to.equal(before);
  });

  it('is deterministic: two fits with the same seed and workers 2 give identical losses and weights', async () => {
    const run = async (): Promise<{ loss: unknown; w: number[][] }> => {
      const clf = new NeuralNetClassifier({ ...base, maxEpochs: 3, workers: 2 });
      await clf.fit(X, y);
      const out = { loss: clf.history.column('trainLoss'), w: clf.model.getWeights().map((t) => Array.from(t.dataSync())) };
      clf.dispose();
      return out;
    };
    const a = await run();
    const b = await run();
    expect(b.loss).to.deep.equal(a.loss);
    expect(b.w).to.deep.equal(a.w);
  });

  it('averages gradients: the first step equals the single-thread gradient of the whole batch (float model)', async () => {
    const grads: Record<number, Record<string, Float32Array>> = {};
    for (const workers of [1, 2]) {
      const cb = new FirstGrads();
      const clf = new NeuralNetClassifier({ ...base, module: denseMlp, maxEpochs: 1, workers, callbacks: [['firstGrads', cb]] });
      await clf.fit(X, y);
      grads[workers] = cb.grads ?? {};
      clf.dispose();
    }
    const g1 = grads[1] ?? {};
    const g2 = grads[2] ?? {};
    expect(Object.keys(g2)).to.deep.equal(Object.keys(g1)).and.have.length(4);
    for (const k of Object.keys(g1)) {
      const a = g1[k] as Float32Array;
      const b = g2[k] as Float32Array;
      const scale = Math.max(...Array.from(a, Math.abs));
      const diff = Math.max(...Array.from(a, (v, i) => Math.abs(v - (b[i] as number))));
      expect(scale, k).to.be.greaterThan(0);
      expect(diff / scale, k).to.be.lessThan(1e-5);
    }
  });

  it('merges quantizer statistics: after step 1 the input buffer is the mean of the two halves\' statistics', async () => {
    let buffer = NaN;
    const probe: Callback = { onBatchEnd: (ctx) => {
      if (ctx.batch !== 0 || ctx.epoch !== 1) return;
      const q = ctx.model.layers.find((l): l is QuantIdentity => l instanceof QuantIdentity);
      buffer = q?.getQuantState().buffer ?? NaN;
    } };
    const clf = new NeuralNetClassifier({ ...base, maxEpochs: 1, workers: 2, callbacks: [['probe', probe]] });
    await clf.fit(X, y);
    const cfg = (clf.model.layers.find((l) => l instanceof QuantIdentity) as QuantIdentity).getConfig();
    clf.dispose();
    // the rows of batch 0, as runEpoch draws them
    const order = shuffleInPlace(Int32Array.from({ length: X.length }, (_, i) => i), makeStatefulRng(deriveSeed(3, 'train')).next);
    const stat = (rows: Int32Array): number => {
      const q = new QuantIdentity({ ...cfg, name: undefined } as ConstructorParameters<typeof QuantIdentity>[0]);
      tf.tidy(() => { q.apply(tf.tensor2d(Array.from(rows, (r) => X[r] as number[])), { training: true }); });
      const b = q.getQuantState().buffer;
      q.dispose();
      return b;
    };
    const b1 = stat(order.slice(0, 64));
    const b2 = stat(order.slice(64, 128));
    expect(b1).to.not.equal(b2);
    expect(buffer).to.be.closeTo(Math.fround(b1 + (b2 - b1) * 0.5), 1e-6);
  });

  it('surfaces a worker failure as a QatError naming the worker and the fix', async () => {
    const module = Object.assign((p: { inputShape: number[]; nOutputs: number }) => tf.sequential({ layers: [
      new MainOnlyLayer({ inputShape: p.inputShape }), tf.layers.dense({ units: p.nOutputs }),
    ] }), { paramNames: [] });
    const clf = new NeuralNetClassifier({ ...base, module, workers: 2 });
    let err: unknown;
    try { await clf.fit(X, y); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(QatError);
    expect((err as Error).message).to.match(/parallel training: worker 1 failed during initialization: .*MainOnlyLayerForParallelTest.*Train with workers: 1/);
    clf.dispose();
  });

  it('rejects a custom loss function with workers > 1', async () => {
    const clf = new NeuralNetClassifier({ ...base, workers: 2, criterion: (a, b) => tf.losses.meanSquaredError(a, b) as tf.Scalar });
    let err: unknown;
    try { await clf.fit(X, y); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as Error).message).to.match(/workers: 2 needs criterion 'crossEntropy' or 'mse'/);
    clf.dispose();
  });

  it('idle workers do not keep the process alive (a script that never shuts them down exits)', () => {
    const url = (p: string): string => pathToFileURL(new URL(p, import.meta.url).pathname).href;
    const code = `
      const { NeuralNetClassifier } = await import(${JSON.stringify(url('../../src/training/index.ts'))});
      const { useBackend } = await import(${JSON.stringify(url('../../src/backend/use_backend.ts'))});
      await useBackend('auto', { quiet: true });
      const X = Array.from({ length: 64 }, (_, i) => [i % 2, (i * 7) % 5]);
      const y = X.map((r) => r[0]);
      const clf = new NeuralNetClassifier({ module__nLayers: 2, maxEpochs: 2, batchSize: 32, trainSplit: null, verbose: 0, workers: 2 });
      await clf.fit(X, y);
      console.log('fitted', clf.history.length);`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 90000 });
    expect(r.error, String(r.error)).to.equal(undefined);
    expect(r.stdout + r.stderr).to.match(/fitted 2/);
    expect(r.status).to.equal(0);
  });
});
