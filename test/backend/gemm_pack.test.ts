// The wasm GEMM's repacked-A path (products with transA and >= 4 column panels): same bits as reading A^T in place,
// on 1 and 2 threads, float64 parity, row counts on every side of the 4-row blocks.
import { expect } from 'chai';
import {
  gemmF32, gemmPool, setGemmPackA, setGemmThreads, type GemmJob,
} from '../../src/backend/gemm/gemm.js';
import { randomFloats, relErr } from '../helpers/backends.js';

/** Float64 reference of A^T B (+ bias, relu) with A stored K x M. */
function reference(a: Float32Array, b: Float32Array, j: GemmJob): Float64Array {
  const { m, n, k } = j;
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let q = 0; q < n; q++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[p * m + i]! * (j.transB ? b[q * k + p]! : b[p * n + q]!);
      if (j.bias !== null) s += j.bias[q]!;
      c[i * n + q] = j.relu ? Math.max(s, 0) : s;
    }
  }
  return c;
}

describe('wasm GEMM: repacked A^T', () => {
  after(() => { setGemmPackA(true); setGemmThreads(undefined); });

  const SIZES: Array<[number, number, number]> = [[1, 32, 5], [2, 33, 7], [3, 40, 1], [4, 64, 3], [5, 32, 9], [130, 47, 17], [263, 72, 130]];
  for (const [m, n, k] of SIZES) {
    for (const transB of [false, true]) {
      it(`${m}x${n}x${k} transB=${transB}: packed and in-place A give the same bits (1 and 2 threads), float64 parity`, function () {
        if (gemmPool() === null) this.skip();
        const a = new Float32Array(randomFloats(m * k, m + 7 * k));
        const b = new Float32Array(randomFloats(k * n, n + 3 * k));
        const job: GemmJob = { m, n, k, transA: true, transB, bias: new Float32Array(randomFloats(n, 4)), relu: m % 2 === 1 };
        const run = (pack: boolean, threads: number): number[] => {
          setGemmPackA(pack);
          setGemmThreads(threads);
          const out = new Float32Array(m * n).fill(NaN);
          expect(gemmF32(a, b, out, job)).to.equal(true);
          return Array.from(out);
        };
        const inPlace = run(false, 1);
        expect(run(true, 1)).to.deep.equal(inPlace);
        expect(run(true, 2)).to.deep.equal(inPlace);
        expect(relErr(new Float32Array(inPlace), reference(a, b, job))).to.be.at.most(2e-7 * Math.max(1, Math.sqrt(k)));
      });
    }
  }

  it('a repacked A after a larger product does not read stale rows (the last block of 1-3 rows)', function () {
    if (gemmPool() === null) this.skip();
    setGemmThreads(1);
    setGemmPackA(true);
    const big = { m: 300, n: 64, k: 50 };
    const ab = new Float32Array(randomFloats(big.m * big.k, 1)).map((x) => x * 1e6);
    const bb = new Float32Array(randomFloats(big.k * big.n, 2));
    gemmF32(ab, bb, new Float32Array(big.m * big.n), { ...big, transA: true, transB: false, bias: null, relu: false });
    const [m, n, k] = [9, 40, 11];
    const a = new Float32Array(randomFloats(m * k, 3));
    const b = new Float32Array(randomFloats(k * n, 4));
    const job: GemmJob = { m, n, k, transA: true, transB: false, bias: null, relu: false };
    const out = new Float32Array(m * n);
    expect(gemmF32(a, b, out, job)).to.equal(true);
    expect(relErr(out, reference(a, b, job))).to.be.at.most(1e-6);
  });
});
