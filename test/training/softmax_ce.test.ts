import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { softmaxCrossEntropy } from '../../src/training/losses.js';
import { SOFTMAX_CE_GRAD_KERNEL, SOFTMAX_CE_KERNEL } from '../../src/training/softmax_ce_kernel.js';

type LabelKind = 'onehot' | 'soft' | 'unnormalized';
type LossFn = (labels: tf.Tensor, logits: tf.Tensor) => tf.Scalar;

const tfjsLoss: LossFn = (l, z) => tf.losses.softmaxCrossEntropy(l, z) as tf.Scalar;

/** Seeded labels: one-hot rows, soft rows summing to 1, or rows with arbitrary sums (one row all zeros). */
function makeLabels(kind: LabelKind, rows: number, classes: number, seed: number): tf.Tensor2D {
  return tf.tidy(() => {
    if (kind === 'onehot') return tf.oneHot(tf.randomUniform([rows], 0, classes, 'int32', seed), classes).asType('float32') as tf.Tensor2D;
    if (kind === 'soft') return tf.softmax(tf.randomNormal([rows, classes], 0, 2, 'float32', seed)) as tf.Tensor2D;
    const l = tf.randomUniform([rows, classes], 0, 2, 'float32', seed);
    const keep = tf.concat([tf.zeros([1, classes]), tf.ones([rows - 1, classes])]).slice([0, 0], [rows, classes]);
    return tf.mul(l, keep) as tf.Tensor2D;
  });
}

/** Value and gradients (labels, logits) of `fn` scaled by `scale` (so dy ≠ 1 is covered too). */
function valueAndGrads(fn: LossFn, labels: tf.Tensor, logits: tf.Tensor, scale = 1): [number, Float32Array, Float32Array] {
  const { value, grads } = tf.tidy(() => tf.valueAndGrads((l: tf.Tensor, z: tf.Tensor) => tf.mul(fn(l, z), scale) as tf.Scalar)([labels, logits]));
  const out: [number, Float32Array, Float32Array] = [value.dataSync()[0]!, grads[0]!.dataSync() as Float32Array, grads[1]!.dataSync() as Float32Array];
  tf.dispose([value, ...grads]);
  return out;
}

/** The loss in float64 from the float32 inputs (an independent reference). */
function exactLoss(labels: tf.Tensor2D, logits: tf.Tensor2D): number {
  const [rows, classes] = logits.shape;
  const [l, z] = [labels.dataSync(), logits.dataSync()];
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const row = Array.from(z.subarray(r * classes, (r + 1) * classes));
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
    for (let j = 0; j < classes; j++) total += l[r * classes + j]! * (lse - row[j]!);
  }
  return total / rows;
}

/** max |a − b| / max |b|. */
function relMaxDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) { d = Math.max(d, Math.abs(a[i]! - b[i]!)); m = Math.max(m, Math.abs(b[i]!)); }
  return m === 0 ? d : d / m;
}

async function onBackend(backend: string, body: () => void | Promise<void>): Promise<void> {
  const prev = tf.getBackend();
  if (backend !== prev) await tf.setBackend(backend);
  try { await body(); } finally { if (backend !== prev) await tf.setBackend(prev); }
}

function parityOn(backend: string): void {
  // The loss: ours is the float64 value rounded once (≤ 1e-7 relative of exact); tfjs' float32 log-sum-exp is off
  // by up to ~ulp(|logits|) per term (> 1e-6 relative when the loss is small next to the logits), so the bound on
  // |ours − tfjs| is 1e-6·|tfjs| plus tfjs' own distance to the exact value.
  it(`matches tf.losses.softmaxCrossEntropy (loss and both gradients, ≤ 1e-6) on ${backend}`, async () => {
    await onBackend(backend, () => {
      let worst = [0, 0, 0];
      let tfjsOff = 0;
      let worstExact = 0;
      let seed = 100;
      for (const classes of [2, 3, 10]) {
        for (const rows of [1, 128]) {
          for (const kind of ['onehot', 'soft', 'unnormalized'] as const) {
            if (kind === 'unnormalized' && rows === 1) continue; // its first row is all zeros
            for (const mag of [1, 8, 80]) {
              const labels = makeLabels(kind, rows, classes, seed++);
              const logits = tf.randomUniform([rows, classes], -mag, mag, 'float32', seed++) as tf.Tensor2D;
              const scale = mag === 8 ? -2.5 : 1;
              const [lr, glr, gzr] = valueAndGrads(tfjsLoss, labels, logits, scale);
              const [lo, glo, gzo] = valueAndGrads(softmaxCrossEntropy, labels, logits, scale);
              const exact = exactLoss(labels, logits) * scale;
              const errs = [Math.abs(lo - lr) / Math.abs(lr), relMaxDiff(gzo, gzr), relMaxDiff(glo, glr)];
              const what = `${kind} [${rows}, ${classes}] ±${mag}`;
              expect(Math.abs(lo - exact), `loss ${what} vs float64: ${lo} vs ${exact}`).to.be.at.most(1e-7 * Math.abs(exact));
              expect(Math.abs(lo - lr), `loss ${what}: ${lo} vs ${lr} (exact ${exact})`).to.be.at.most(1e-6 * Math.abs(lr) + Math.abs(lr - exact));
              if (Math.abs(lr - exact) > 1e-6 * Math.abs(exact)) tfjsOff++;
              worstExact = Math.max(worstExact, Math.abs(lo - exact) / Math.abs(exact));
              expect(errs[1], `d/dlogits ${what}`).to.be.at.most(1e-6);
              expect(errs[2], `d/dlabels ${what}`).to.be.at.most(1e-6);
              worst = worst.map((w, i) => Math.max(w, errs[i]!));
              tf.dispose([labels, logits]);
            }
          }
        }
      }
      expect(worst[0]).to.be.greaterThan(0); // the comparison saw float differences, i.e. two computations ran
      if (process.env['SCE_VERBOSE'] !== undefined) console.log(`    ${backend}: worst loss ${worst[0]!.toExponential(2)}, dlogits ${worst[1]!.toExponential(2)}, dlabels ${worst[2]!.toExponential(2)}; tfjs > 1e-6 off float64 in ${tfjsOff} cases; ours vs float64 ${worstExact.toExponential(2)}`);
    });
  });
}

describe('training/softmaxCrossEntropy (fused QatSoftmaxCE)', () => {
  let tensorsAtStart = 0;
  before(() => { tensorsAtStart = tf.memory().numTensors; });
  after(() => expect(tf.memory().numTensors, 'tensors left by this suite').to.equal(tensorsAtStart));

  parityOn('wasm');
  parityOn('cpu');

  it('gives the exact values of a hand computation (log 2, log 3 and 1/rows scaled gradients)', async () => {
    for (const backend of ['wasm', 'cpu']) {
      await onBackend(backend, () => {
        const labels = tf.tensor2d([[1, 0], [0, 0.5], [0.5, 0.5]]);
        const logits = tf.tensor2d([[3, 3], [-7, -7], [0.25, 0.25]]);
        const [loss, gl, gz] = valueAndGrads(softmaxCrossEntropy, labels, logits);
        // row losses: log 2, 0.5·log 2, log 2 → mean 2.5·log 2 / 3; dlogits = (0.5 − label)/3
        expect(loss).to.be.closeTo(2.5 * Math.LN2 / 3, 1e-7);
        expect(Array.from(gz)).to.deep.equal([-0.5, 0.5, 0.5, 0, 0, 0].map((v) => Math.fround(Math.fround(1 / 3) * v)));
        expect(Array.from(gl)).to.deep.equal(Array.from(gz).map((v) => -v));
        tf.dispose([labels, logits]);
      });
    }
  });

  it('replaces ~35 kernels of one tf.grads call by QatSoftmaxCE + QatSoftmaxCEGrad', async () => {
    for (const backend of ['wasm', 'cpu']) {
      await onBackend(backend, async () => {
        const labels = makeLabels('onehot', 128, 10, 1);
        const logits = tf.randomNormal([128, 10], 0, 3, 'float32', 2);
        const kernelsOf = async (fn: LossFn): Promise<string[]> => {
          const g = tf.grads((z: tf.Tensor) => fn(labels, z));
          const prof = await tf.profile(() => { tf.dispose(g([logits])); });
          return prof.kernels.map((k) => k.name); // copy now: tfjs reuses the profile object
        };
        const ref = await kernelsOf(tfjsLoss);
        const ours = await kernelsOf(softmaxCrossEntropy);
        expect(ref.length, ref.join(',')).to.be.at.least(20);
        expect(ours.filter((n) => n === SOFTMAX_CE_KERNEL)).to.have.length(1);
        expect(ours.filter((n) => n === SOFTMAX_CE_GRAD_KERNEL)).to.have.length(1);
        expect(ours.length, ours.join(',')).to.be.at.most(4); // + the initial dy (Fill/Identity)
        for (const n of ['Exp', 'Log', 'Max', 'Sum', 'RealDiv']) expect(ours, n).to.not.include(n);
        tf.dispose([labels, logits]);
      });
    }
  });

  it('gives the right gradient when the cached softmax does not apply (same logits, other labels; direct kernel call)', async () => {
    for (const backend of ['wasm', 'cpu']) {
      await onBackend(backend, () => {
        const l1 = makeLabels('onehot', 32, 10, 21);
        const l2 = makeLabels('soft', 32, 10, 22);
        const z = tf.randomUniform([32, 10], -20, 20, 'float32', 23);
        // two forwards on the same logits: the first one's backward misses the cache (it holds l2's softmax)
        const two = (f: LossFn) => (q: tf.Tensor): tf.Scalar => tf.add(f(l1, q), tf.mul(f(l2, q), 3));
        const [gRef, gOurs] = tf.tidy(() => [tf.grad(two(tfjsLoss))(z), tf.grad(two(softmaxCrossEntropy))(z)]);
        expect(relMaxDiff(gOurs!.dataSync() as Float32Array, gRef!.dataSync() as Float32Array)).to.be.at.most(1e-6);
        // the backward kernel alone, on tensors no forward has seen
        const fresh = tf.randomUniform([32, 10], -5, 5, 'float32', 24);
        const dy = tf.scalar(0.75);
        const direct = tf.engine().runKernel(SOFTMAX_CE_GRAD_KERNEL, { dy, labels: l2, logits: fresh }) as tf.Tensor;
        const ref = tf.tidy(() => tf.grad((q: tf.Tensor) => tf.mul(tfjsLoss(l2, q), 0.75))(fresh));
        expect(relMaxDiff(direct.dataSync() as Float32Array, ref.dataSync() as Float32Array)).to.be.at.most(1e-6);
        tf.dispose([l1, l2, z, gRef!, gOurs!, fresh, dy, direct, ref]);
      });
    }
  });

  it('leaks no tensors (forward, gradients, a few descent steps)', () => {
    const labels = makeLabels('soft', 16, 5, 3);
    const w0 = tf.randomNormal([4, 5], 0, 1, 'float32', 4);
    const w = tf.variable(w0, true, 'sce_leak_w');
    w0.dispose(); // the variable holds its own reference
    const x = tf.randomNormal([16, 4], 0, 1, 'float32', 5);
    const before = tf.memory().numTensors;
    const z = tf.matMul(x, w);
    softmaxCrossEntropy(labels, z).dispose();
    valueAndGrads(softmaxCrossEntropy, labels, z); // disposes what it creates
    z.dispose();
    const losses: number[] = [];
    for (let k = 0; k < 3; k++) {
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => softmaxCrossEntropy(labels, tf.matMul(x, w)), [w]);
        losses.push(value.dataSync()[0]!);
        w.assign(tf.sub(w, tf.mul(grads[w.name]!, 0.5)));
      });
    }
    expect(losses[2]).to.be.lessThan(losses[0]!); // it trains
    expect(tf.memory().numTensors).to.equal(before);
    tf.dispose([labels, w, x]);
  });

  it('falls back to tf.losses.softmaxCrossEntropy for other dtypes, ranks and shapes', async () => {
    const logits3 = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 6);
    const labels3 = tf.tidy(() => tf.softmax(tf.randomNormal([2, 3, 4], 0, 1, 'float32', 7)));
    const a = softmaxCrossEntropy(labels3, logits3);
    const b = tf.losses.softmaxCrossEntropy(labels3, logits3);
    expect(a.dataSync()[0]).to.equal(b.dataSync()[0]);
    const labelsInt = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 2], 'int32'), 4));
    const logits2 = tf.randomNormal([2, 4], 0, 1, 'float32', 8);
    const c = softmaxCrossEntropy(labelsInt, logits2);
    const d = tf.losses.softmaxCrossEntropy(labelsInt, logits2);
    expect(c.dataSync()[0]).to.equal(d.dataSync()[0]);
    const prof = await tf.profile(() => { softmaxCrossEntropy(labelsInt, logits2).dispose(); });
    expect(prof.kernels.map((k) => k.name)).to.not.include(SOFTMAX_CE_KERNEL);
    expect(() => tf.tidy(() => softmaxCrossEntropy(tf.zeros([2, 3]), logits2))).to.throw(/shape/i);
    tf.dispose([logits3, labels3, a, b, labelsInt, logits2, c, d]);
  });
});
