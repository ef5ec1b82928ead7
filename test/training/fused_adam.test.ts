import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { FusedAdam, fusedAdam, NeuralNetClassifier, type EpochRecord } from '../../src/training/index.js';
import { makeOptimizer } from '../../src/training/optimizers.js';
import { ADAM_KERNEL } from '../../src/training/fused_adam_kernel.js';
import { blobs, denseMlp } from './fixtures.js';

// sizes hit every wasm path: 4×4 vectors (64 B), single vectors (16 B) and the scalar tail
const SHAPES: number[][] = [[], [1], [3], [4], [5], [7], [13, 7], [33, 17], [2, 3, 4, 5], [23], [40, 8]];
let uid = 0;

/** A variable initialised from `t` (which is then disposed: tf.variable keeps its own reference to the data). */
function varOf(t: tf.Tensor, name: string): tf.Variable {
  const v = tf.variable(t, true, name);
  t.dispose();
  return v;
}

interface Pair { vars: [tf.Variable[], tf.Variable[]]; opts: [tf.Optimizer, tf.Optimizer] }

/** Two identical variable sets (seeded), one driven by tf.train.adam, one by FusedAdam. */
function makePair(hyper: [number, number, number, number | undefined]): Pair {
  const id = uid++;
  const mk = (tag: string): tf.Variable[] =>
    SHAPES.map((s, i) => varOf(tf.randomNormal(s, 0, 1, 'float32', 11 + i), `fa${id}${tag}_${i}`));
  return { vars: [mk('ref'), mk('fused')], opts: [tf.train.adam(...hyper), new FusedAdam(...hyper)] };
}

/** Seeded gradients of step k, with magnitudes 1e-4..1e2 and some exact zeros. */
function grads(k: number): tf.Tensor[] {
  return SHAPES.map((s, i) => tf.tidy(() => {
    const g = tf.randomNormal(s, 0, [1e-4, 1, 100, 0.03][(k + i) % 4]!, 'float32', 1000 * k + i);
    return k % 5 === 3 ? tf.where(tf.greater(g, 0), g, tf.zerosLike(g)) : g;
  }));
}

/** Apply `steps` steps to both sides (list form on even steps, map form on odd ones). */
function run(p: Pair, steps: number, from = 0): void {
  for (let k = from; k < from + steps; k++) {
    const gs = grads(k);
    p.opts.forEach((opt, side) => {
      const vars = p.vars[side]!;
      if (k % 2 === 0) opt.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: gs[i]! })));
      else opt.applyGradients(Object.fromEntries(vars.map((v, i) => [v.name, gs[i]!])));
    });
    tf.dispose(gs);
  }
}

/** Number of elements that differ (!==) between two tensors of the same size. */
function mismatches(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync(), y = b.dataSync();
  expect(x.length).to.equal(y.length);
  let n = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) n++;
  return n;
}

/** getWeights() returns a new 'iter' scalar each call (the other entries are the optimizer's own variables). */
function disposeIter(...lists: Array<Array<{ name: string; tensor: tf.Tensor }>>): void {
  for (const l of lists) for (const w of l) if (w.name === 'iter') w.tensor.dispose();
}

async function expectIdentical(p: Pair): Promise<void> {
  p.vars[0].forEach((v, i) => expect(mismatches(v, p.vars[1][i]!), `value ${SHAPES[i]!.join('x')}`).to.equal(0));
  const [wa, wb] = [await p.opts[0].getWeights(), await p.opts[1].getWeights()];
  expect(wb.length).to.equal(wa.length);
  const base = (n: string): string => n.replace(/fa\d+(ref|fused)/, '');
  expect(wb.map((w) => base(w.name))).to.deep.equal(wa.map((w) => base(w.name)));
  wa.forEach((w, i) => expect(mismatches(w.tensor, wb[i]!.tensor), `state ${w.name}`).to.equal(0));
  disposeIter(wa, wb);
  expect(p.opts[1].iterations).to.equal(p.opts[0].iterations);
}

function disposePair(p: Pair): void {
  p.opts.forEach((o) => o.dispose());
  p.vars.flat().forEach((v) => v.dispose());
}

async function identityOn(backend: string): Promise<void> {
  const prev = tf.getBackend();
  if (backend !== prev) await tf.setBackend(backend);
  try {
    for (const hyper of [[0.01, 0.9, 0.999, 1e-8], [0.05, 0.8, 0.99, undefined]] as const) {
      const p = makePair([...hyper]);
      run(p, 20);
      const init = tf.randomNormal([33, 17], 0, 1, 'float32', 18);
      expect(mismatches(p.vars[1][7]!, init)).to.be.greaterThan(500); // the variables did move
      init.dispose();
      await expectIdentical(p);
      disposePair(p);
    }
  } finally {
    if (backend !== prev) await tf.setBackend(prev);
  }
}

describe('training/FusedAdam', () => {
  let tensorsAtStart = 0;
  before(() => { tensorsAtStart = tf.memory().numTensors; });
  after(() => expect(tf.memory().numTensors, 'tensors left by this suite').to.equal(tensorsAtStart));

  it(`gives values and moments identical (===) to tf.train.adam over 20 steps on the active backend`, async () => {
    await identityOn(tf.getBackend());
  });

  it('gives values and moments identical (===) to tf.train.adam over 20 steps on cpu', async () => {
    await identityOn('cpu');
  });

  it(`runs one ${ADAM_KERNEL} kernel per variable and none of tfjs' elementwise Adam ops`, async () => {
    const p = makePair([0.01, 0.9, 0.999, 1e-8]);
    run(p, 1);
    const gs = grads(1);
    const prof = await tf.profile(() => p.opts[1].applyGradients(p.vars[1].map((v, i) => ({ name: v.name, tensor: gs[i]! }))));
    const names = prof.kernels.map((k) => k.name);
    expect(names.filter((n) => n === ADAM_KERNEL)).to.have.length(SHAPES.length);
    for (const n of ['Sqrt', 'Square', 'RealDiv']) expect(names, n).to.not.include(n);
    tf.dispose(gs);
    disposePair(p);
  });

  it('writes new tensors: the previous value data is left untouched', () => {
    const v = varOf(tf.tensor1d([1, 2, 3, 4, 5]), `fa${uid++}keep`);
    const held = tf.clone(v); // shares v's dataId
    const opt = fusedAdam(0.1);
    const g = tf.tensor1d([1, -1, 1, -1, 1]);
    opt.applyGradients([{ name: v.name, tensor: g }]);
    expect(Array.from(held.dataSync())).to.deep.equal([1, 2, 3, 4, 5]);
    // first Adam step: m̂ = g, v̂ = g², so each value moves by lr·g/(|g|+ε) ≈ 0.1
    const moved = Array.from(v.dataSync());
    [0.9, 2.1, 2.9, 4.1, 4.9].forEach((e, i) => expect(moved[i]).to.be.closeTo(e, 1e-6));
    tf.dispose([held, g, v]);
    opt.dispose();
  });

  it('exchanges optimizer state with tf.train.adam both ways (getWeights/setWeights), then stays identical', async () => {
    const p = makePair([0.02, 0.9, 0.999, 1e-8]);
    run(p, 5);
    // Side 0 (was tf.train.adam) continues with a FusedAdam loaded from its state; side 1 (was FusedAdam) with a
    // tf.train.adam loaded from its state. setWeights sets accβ = pow(β, t+1) in both classes, so the sides stay equal.
    const swapped: [tf.Optimizer, tf.Optimizer] = [new FusedAdam(0.02, 0.9, 0.999, 1e-8), tf.train.adam(0.02, 0.9, 0.999, 1e-8)];
    for (const side of [0, 1] as const) {
      const state = await p.opts[side].getWeights();
      const copies = state.map((w) => ({ name: w.name, tensor: w.tensor.clone() }));
      await swapped[side].setWeights(copies);
      tf.dispose(copies.map((w) => w.tensor)); // setWeights made its own variables of them
      const loaded = await swapped[side].getWeights();
      expect(loaded.map((w) => w.name)).to.deep.equal(state.map((w) => w.name));
      loaded.forEach((w, i) => expect(mismatches(w.tensor, state[i]!.tensor), w.name).to.equal(0));
      disposeIter(state, loaded);
      expect(swapped[side].iterations).to.equal(5);
      expect(swapped[side].getClassName()).to.equal(p.opts[side].getClassName());
      p.opts[side].dispose();
    }
    // reorder so that side 0 is the tf.train.adam (on the former FusedAdam's variables) and side 1 the FusedAdam
    p.opts = [swapped[1], swapped[0]];
    p.vars = [p.vars[1], p.vars[0]];
    run(p, 5, 5);
    await expectIdentical(p);
    disposePair(p);
  });

  it('leaks no tensors: after the first step (which creates the moments) a step keeps the count; dispose frees all', () => {
    const before = tf.memory().numTensors;
    const v = varOf(tf.ones([17, 3]), `fa${uid++}leak`);
    const opt: tf.Optimizer = new FusedAdam(0.01, 0.9, 0.999, 1e-8);
    const g = tf.fill([17, 3], 0.5);
    opt.applyGradients({ [v.name]: g });
    const after1 = tf.memory().numTensors;
    for (let k = 0; k < 3; k++) opt.applyGradients({ [v.name]: g });
    expect(tf.memory().numTensors).to.equal(after1);
    tf.dispose([g, v]);
    opt.dispose();
    expect(tf.memory().numTensors).to.equal(before);
  });

  it("is what makeOptimizer('adam') builds, with the same option validation", () => {
    const opt = makeOptimizer('adam', 0.01, { beta1: 0.8 });
    expect(opt).to.be.instanceOf(FusedAdam).and.instanceOf(tf.AdamOptimizer);
    expect(opt.getClassName()).to.equal('Adam');
    expect(opt.getConfig()).to.deep.equal({ learningRate: 0.01, beta1: 0.8, beta2: 0.999, epsilon: 1e-8 });
    opt.dispose();
    expect(() => makeOptimizer('adam', 0.01, { beta3: 1 })).to.throw(/optimizer__beta3/);
    expect(() => makeOptimizer('adam', 0.01, { beta1: 'x' })).to.throw(/optimizer__beta1 must be a finite number/);
  });

  it('trains a NeuralNetClassifier to the same history and predictions as an explicit tf.train.adam factory', async () => {
    const { X, y } = blobs(150, ['a', 'b', 'c']);
    const strip = (h: EpochRecord[]): unknown => h.map(({ dur, ...rest }) => { void dur; return rest; });
    const fit = async (optimizer?: (lr: number) => tf.Optimizer): Promise<{ h: unknown; p: number[][]; opt: string }> => {
      const clf = new NeuralNetClassifier({
        module: denseMlp, maxEpochs: 4, batchSize: 32, verbose: 0, seed: 5, lr: 0.02, ...(optimizer === undefined ? {} : { optimizer }),
      });
      await clf.fit(X, y);
      const out = { h: strip(clf.history.toJSON()), p: clf.predictProba(X), opt: clf.optimizer_?.constructor.name ?? '' };
      clf.dispose();
      return out;
    };
    const fused = await fit();
    const ref = await fit((lr) => tf.train.adam(lr, 0.9, 0.999, 1e-8));
    expect(fused.opt).to.equal('FusedAdam');
    expect(ref.opt).to.equal('AdamOptimizer');
    expect(fused.h).to.deep.equal(ref.h);
    expect(fused.p).to.deep.equal(ref.p);
  });
});
