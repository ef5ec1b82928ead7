// The wasm SIMD GEMM (src/backend/gemm) behind BatchMatMul/_FusedMatMul: parity with a float64 loop and tfjs'
// cpu backend, all transposes, odd sizes, bias + relu, gradients, thread-count independence, memory growth.
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../src/backend/use_backend.js';
import {
  gemmF32, gemmPool, gemmStats, gemmThreads, setGemmEnabled, setGemmThreads, shutdownGemm, type GemmJob,
} from '../../src/backend/gemm/gemm.js';
import { randomFloats, relErr } from '../helpers/backends.js';

/** Float64 reference of op(A) op(B) (+ bias, relu). */
function reference(a: ArrayLike<number>, b: ArrayLike<number>, j: GemmJob): Float64Array {
  const { m, n, k, transA, transB } = j;
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let q = 0; q < n; q++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (transA ? a[p * m + i]! : a[i * k + p]!) * (transB ? b[q * k + p]! : b[p * n + q]!);
      if (j.bias !== null) s += j.bias[q]!;
      c[i * n + q] = j.relu ? Math.max(s, 0) : s;
    }
  }
  return c;
}

const SIZES: Array<[number, number, number]> = [
  [1, 1, 1], [1, 8, 3], [3, 7, 9], [4, 8, 4], [7, 9, 10], [9, 16, 1], [10, 3, 129], [13, 17, 5], [129, 10, 7], [5, 130, 33],
];

describe('wasm GEMM (gemmF32)', () => {
  after(() => { setGemmThreads(undefined); });

  for (const [m, n, k] of SIZES) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        it(`${m}x${n}x${k} transA=${transA} transB=${transB}: float64 parity, same bits on 1 and 2 threads`, function () {
          if (gemmPool() === null) this.skip();
          const a = new Float32Array(randomFloats(m * k, m * 31 + k));
          const b = new Float32Array(randomFloats(k * n, n * 17 + k));
          const bias = new Float32Array(randomFloats(n, 5));
          for (const [withBias, relu] of [[false, false], [true, true]] as const) {
            const job: GemmJob = { m, n, k, transA, transB, bias: withBias ? bias : null, relu };
            const ref = reference(a, b, job);
            setGemmThreads(1);
            const one = new Float32Array(m * n).fill(NaN);
            expect(gemmF32(a, b, one, job)).to.equal(true);
            setGemmThreads(2);
            const two = new Float32Array(m * n).fill(NaN);
            expect(gemmF32(a, b, two, job)).to.equal(true);
            expect(Array.from(two)).to.deep.equal(Array.from(one));
            // error of a float32 k-term sum, relative to the largest |C|
            expect(relErr(one, ref)).to.be.at.most(2e-7 * Math.max(1, Math.sqrt(k)));
            if (relu) expect(Math.min(...one)).to.be.at.least(0);
          }
        });
      }
    }
  }
});

/** sum(op(a) op(b) * r) and its gradients on the active backend. */
function matMulAndGrads(as: number[], bs: number[], tA: boolean, tB: boolean): Float32Array[] {
  return tf.tidy(() => {
    const a = tf.tensor(randomFloats(as.reduce((p, d) => p * d, 1), 11), as);
    const b = tf.tensor(randomFloats(bs.reduce((p, d) => p * d, 1), 12), bs);
    const y = tf.matMul(a, b, tA, tB);
    const r = tf.tensor(randomFloats(y.size, 13), y.shape);
    const [ga, gb] = tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.matMul(x, w, tA, tB).mul(r).sum())([a, b]);
    return [y.dataSync() as Float32Array, ga!.dataSync() as Float32Array, gb!.dataSync() as Float32Array];
  });
}

/** fused matMul + bias + activation on the active backend. */
function fused(as: number[], bs: number[], tA: boolean, tB: boolean, activation: 'relu' | 'linear'): Float32Array {
  return tf.tidy(() => {
    const a = tf.tensor(randomFloats(as.reduce((p, d) => p * d, 1), 21), as);
    const b = tf.tensor(randomFloats(bs.reduce((p, d) => p * d, 1), 22), bs);
    const n = tB ? bs[bs.length - 2]! : bs[bs.length - 1]!;
    const bias = tf.tensor1d(randomFloats(n, 23));
    return tf.fused.matMul({ a, b, transposeA: tA, transposeB: tB, bias, activation }).dataSync() as Float32Array;
  });
}

interface MatCase { as: number[]; bs: number[]; tA: boolean; tB: boolean }
const MAT_CASES: MatCase[] = [
  { as: [128, 96], bs: [96, 64], tA: false, tB: false },
  { as: [96, 129], bs: [96, 48], tA: true, tB: false },
  { as: [129, 33], bs: [131, 33], tA: false, tB: true },
  { as: [90, 129], bs: [47, 90], tA: true, tB: true },
  { as: [1, 100, 77], bs: [1, 77, 90], tA: false, tB: false },
  { as: [1, 77, 100], bs: [1, 90, 77], tA: true, tB: true },
];

describe('BatchMatMul / _FusedMatMul on the wasm GEMM vs the cpu backend', function () {
  this.timeout(60000);
  const wasm: Float32Array[][] = [];
  const wasmFused: Float32Array[] = [];
  let usedGemm = 0;

  before(async () => {
    await useBackend('wasm', { quiet: true });
    if (gemmPool() === null) return;
    const calls0 = gemmStats().calls;
    const n0 = tf.memory().numTensors;
    for (const c of MAT_CASES) wasm.push(matMulAndGrads(c.as, c.bs, c.tA, c.tB));
    for (const c of MAT_CASES) wasmFused.push(fused(c.as, c.bs, c.tA, c.tB, 'relu'), fused(c.as, c.bs, c.tA, c.tB, 'linear'));
    expect(tf.memory().numTensors).to.equal(n0);
    usedGemm = gemmStats().calls - calls0;
    await useBackend('cpu', { quiet: true });
  });
  after(async () => { await useBackend((process.env['TFJS_QAT_BACKEND'] ?? 'auto') as 'auto', { quiet: true }); });

  it('the products, their gradients and the fused ones ran on the GEMM', function () {
    if (wasm.length === 0) this.skip();
    // per case: the forward, the forward again inside tf.grads, 2 gradients, 2 fused
    expect(usedGemm).to.equal(MAT_CASES.length * 6);
  });

  MAT_CASES.forEach((c, i) => {
    it(`[${c.as}]${c.tA ? 'ᵀ' : ''} x [${c.bs}]${c.tB ? 'ᵀ' : ''}: value and tf.grads within 1e-6 of cpu`, function () {
      if (wasm.length === 0) this.skip();
      const cpu = matMulAndGrads(c.as, c.bs, c.tA, c.tB);
      for (let j = 0; j < 3; j++) expect(relErr(wasm[i]![j]!, cpu[j]!), `output ${j}`).to.be.at.most(1e-6);
      expect(relErr(wasmFused[2 * i]!, fused(c.as, c.bs, c.tA, c.tB, 'relu'))).to.be.at.most(1e-6);
      expect(relErr(wasmFused[2 * i + 1]!, fused(c.as, c.bs, c.tA, c.tB, 'linear'))).to.be.at.most(1e-6);
      expect(Math.min(...wasmFused[2 * i]!)).to.equal(0);
    });
  });
});

describe('wasm GEMM worker and memory', function () {
  this.timeout(60000);
  before(async () => { await useBackend('wasm', { quiet: true }); });
  after(() => { setGemmThreads(undefined); setGemmEnabled(true); });

  /** Run `job` on 2 threads until the worker has computed some of its items (it starts lazily; bounded). */
  function runShared(a: Float32Array, b: Float32Array, job: GemmJob): Float32Array {
    setGemmThreads(2);
    const w0 = gemmStats().workerItems;
    const out = new Float32Array(job.m * job.n);
    for (let rep = 0; rep < 300 && gemmStats().workerItems === w0; rep++) {
      expect(gemmF32(a, b, out, job)).to.equal(true);
      const t0 = Date.now();
      while (Date.now() - t0 < 2); // let the thread come up
    }
    expect(gemmStats().workerItems, 'the worker computed items').to.be.above(w0);
    return out;
  }

  it('a big matmul after small ones grows the shared memory; the worker takes part; bits match 1 thread', function () {
    const pool = gemmPool();
    if (pool === null) this.skip();
    const [m, n, k] = [300, 520, 700];
    const a = new Float32Array(randomFloats(m * k, 1));
    const b = new Float32Array(randomFloats(k * n, 2));
    const job: GemmJob = { m, n, k, transA: false, transB: true, bias: null, relu: false };
    const before = pool.memory.buffer.byteLength;
    expect(before).to.be.below((m * k + k * n) * 4);
    setGemmThreads(1);
    const one = new Float32Array(m * n);
    expect(gemmF32(a, b, one, job)).to.equal(true);
    expect(pool.memory.buffer.byteLength).to.be.above(before);
    const two = runShared(a, b, job);
    expect(Array.from(two)).to.deep.equal(Array.from(one));
    expect(relErr(one, reference(a, b, job))).to.be.at.most(1e-5);
  });

  for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    it(`131x67x257 transA=${transA} transB=${transB} + bias + relu: the worker's items have the same bits as 1 thread`, function () {
      if (gemmPool() === null) this.skip();
      const [m, n, k] = [131, 67, 257];
      const a = new Float32Array(randomFloats(m * k, 7));
      const b = new Float32Array(randomFloats(k * n, 8));
      const job: GemmJob = { m, n, k, transA, transB, bias: new Float32Array(randomFloats(n, 9)), relu: true };
      setGemmThreads(1);
      const one = new Float32Array(m * n);
      expect(gemmF32(a, b, one, job)).to.equal(true);
      expect(Array.from(runShared(a, b, job))).to.deep.equal(Array.from(one));
      expect(relErr(one, reference(a, b, job))).to.be.at.most(1e-6);
    });
  }

  it('tf.matMul gives the same bits with the GEMM on 1 and 2 threads, without leaks', () => {
    const run = (): Float32Array => tf.tidy(() => {
      const x = tf.tensor2d(randomFloats(128 * 200, 3), [128, 200]);
      const w = tf.tensor2d(randomFloats(200 * 96, 4), [200, 96]);
      return tf.matMul(x, w).dataSync() as Float32Array;
    });
    const n0 = tf.memory().numTensors;
    setGemmThreads(1);
    const one = run();
    setGemmThreads(2);
    const two = run();
    expect(Array.from(two)).to.deep.equal(Array.from(one));
    setGemmEnabled(false);
    const orig = run();
    setGemmEnabled(true);
    expect(relErr(one, orig)).to.be.at.most(1e-6);
    expect(tf.memory().numTensors).to.equal(n0);
  });

  it('after shutdownGemm a new worker starts; TFJS_QAT_THREADS=1 means one thread', async function () {
    if (gemmPool() === null) this.skip();
    await shutdownGemm();
    expect(gemmStats().hasWorker).to.equal(false);
    const [m, n, k] = [128, 96, 200]; // above PARALLEL_MIN_FLOPS
    const a = new Float32Array(randomFloats(m * k, 3));
    const b = new Float32Array(randomFloats(k * n, 4));
    const job: GemmJob = { m, n, k, transA: false, transB: false, bias: null, relu: false };
    runShared(a, b, job);
    expect(gemmStats().hasWorker).to.equal(true);
    setGemmThreads(undefined);
    const saved = process.env['TFJS_QAT_THREADS'];
    try {
      process.env['TFJS_QAT_THREADS'] = '1';
      expect(gemmThreads()).to.equal(1);
      process.env['TFJS_QAT_THREADS'] = '2';
      expect(gemmThreads()).to.equal(2);
    } finally {
      if (saved === undefined) delete process.env['TFJS_QAT_THREADS'];
      else process.env['TFJS_QAT_THREADS'] = saved;
    }
  });

  it('a product over the shared-memory limit is declined (the kernel then uses the original path)', function () {
    if (gemmPool() === null) this.skip();
    const tiny = new Float32Array(1);
    const job: GemmJob = { m: 8192, n: 8192, k: 8192, transA: false, transB: false, bias: null, relu: false };
    expect(gemmF32(tiny, tiny, tiny, job)).to.equal(false);
    expect(tiny[0]).to.equal(0); // untouched
  });
});
