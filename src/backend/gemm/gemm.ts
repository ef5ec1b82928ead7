/**
 * Entry of the wasm GEMM: C = op(A) op(B) (+ bias, relu) for float32 matrices given as Float32Array views (of the
 * tfjs wasm heap). The operands are copied into the GEMM's shared memory, the work is split into items (column
 * panels x row blocks) that the main thread and the worker share (gemm_pool.ts), and C is copied back.
 */
import { GemmPool } from './gemm_pool.js';
import { HDR, HEADER_BYTES, MR, NR } from './gemm_simd.js';

/** One matmul job. */
export interface GemmJob {
  /** Rows of C. */
  readonly m: number;
  /** Columns of C. */
  readonly n: number;
  /** Inner dimension. */
  readonly k: number;
  /** A is stored K x M (row-major) instead of M x K. */
  readonly transA: boolean;
  /** B is stored N x K instead of K x N. */
  readonly transB: boolean;
  /** Bias of length n added to every row, or null. */
  readonly bias: Float32Array | null;
  /** Clamp the result at 0 after the bias. */
  readonly relu: boolean;
}

export { setGemmThreads, gemmThreads } from './gemm_pool.js';

let pool: GemmPool | null | undefined;
let enabled = true;
let calls = 0;

/** Counters of the GEMM (tests, diagnostics). */
export interface GemmStats {
  /** Matmuls computed by the GEMM. */
  readonly calls: number;
  /** Work items computed by the worker thread. */
  readonly workerItems: number;
  /** A worker thread exists. */
  readonly hasWorker: boolean;
  /** Jobs where the calling thread waited long for the worker (each starts a back-off to one thread). */
  readonly lateJobs: number;
  /** Parallel jobs the calling thread computed alone because the worker was asleep (idle > 20 ms). */
  readonly aloneJobs: number;
}

/** Counters: matmuls run on the GEMM, work items the worker computed, straggling jobs. */
export function gemmStats(): GemmStats {
  if (!pool) return { calls, workerItems: 0, hasWorker: false, lateJobs: 0, aloneJobs: 0 };
  const { workerItems, hasWorker, lateJobs, aloneJobs } = pool;
  return { calls, workerItems, hasWorker, lateJobs, aloneJobs };
}

/** Smallest job (2*M*N*K flops) that the worker thread shares; smaller ones run on the calling thread only. */
export const PARALLEL_MIN_FLOPS = 1 << 22;

/** Turn the GEMM off (matmuls go to the original kernels) or back on, e.g. for A/B measurements. @default on */
export function setGemmEnabled(on: boolean): void {
  enabled = on;
}

/** True unless setGemmEnabled(false) was called. */
export function gemmEnabled(): boolean {
  return enabled;
}

/** The GEMM pool of this thread (created on first use), or null when the engine lacks shared memory or SIMD. */
export function gemmPool(): GemmPool | null {
  if (pool === undefined) pool = GemmPool.create();
  return pool;
}

/** Stop the GEMM worker thread, if any (tests and clean shutdowns; not needed for a process to exit). */
export async function shutdownGemm(): Promise<void> {
  if (pool) await pool.shutdown();
}

/** Work split: about `items` work items per job, at least `minPanels` column panels per item. */
const split = { items: 16, minPanels: 2 };
/**
 * Set the work split of the jobs (for A/B measurements; 32 items of >= 1 panel and 24 of >= 1 measured the same
 * as the default on the MLP shapes).
 * @param items about this many work items per job. @default 16
 * @param minPanels at least this many 8-column panels per item (2 keeps each 64-byte line of C to one thread). @default 2
 */
export function setGemmSplit(items: number, minPanels: number): void {
  split.items = Math.max(1, Math.round(items));
  split.minPanels = Math.max(1, Math.round(minPanels));
}

let packA = true;
/** Repack A^T before the products with transA (on) or read it in place (off; for A/B measurements). @default on */
export function setGemmPackA(on: boolean): void {
  packA = on;
}

const align = (x: number): number => Math.ceil(x / 64) * 64;

/**
 * Compute `out` (m x n, row-major) from `a` and `b` (layouts per job.transA/transB). Returns false, with `out`
 * untouched, when the GEMM cannot run here (no shared-memory wasm, or operands over the memory limit).
 */
export function gemmF32(a: Float32Array, b: Float32Array, out: Float32Array, job: GemmJob): boolean {
  const p = gemmPool();
  if (p === null) return false;
  const { m, n, k, transA, transB } = job;
  const nPanels = Math.ceil(n / NR);
  const np = nPanels * NR;
  const offA = HEADER_BYTES;
  const offB = align(offA + m * k * 4);
  const offBias = align(offB + k * n * 4);
  const offC = align(offBias + np * 4);
  const offPack = align(offC + m * np * 4);
  const packStride = align(k * NR * 4);
  // A^T is repacked into k-major blocks of 4 rows (contiguous for the micro-kernel; ~15% faster on 784x256x128),
  // when it is read for at least 4 column panels (the repacking costs about one read of A)
  const packedA = transA && packA && nPanels >= 4;
  const offAP = align(offPack + 2 * packStride);
  const end = packedA ? offAP + Math.ceil(m / MR) * MR * k * 4 : offPack + 2 * packStride;
  if (!p.ensure(end)) return false;
  const buf = p.memory.buffer;
  new Float32Array(buf, offA, m * k).set(a);
  if (packedA) p.exports.packA(offA, m, k, offAP);
  new Float32Array(buf, offB, k * n).set(b);
  const bias = new Float32Array(buf, offBias, np);
  bias.fill(0);
  if (job.bias !== null) bias.set(job.bias);

  // work split: ~16 items over column panels, then over row blocks when there are few panels
  // (an even number of panels per item keeps the 64-byte lines of C rows to one thread: no false sharing)
  const ppc = split.minPanels * Math.max(1, Math.ceil(nPanels / (split.minPanels * split.items)));
  const groups = Math.ceil(nPanels / ppc);
  const wantRows = Math.max(1, Math.floor(split.items / groups));
  const rpc = Math.max(MR * 4, Math.ceil(m / wantRows / MR) * MR);
  const nRowBlocks = Math.ceil(m / rpc);

  const h = new Int32Array(buf, 0, HEADER_BYTES / 4);
  const w = (off: number, v: number): void => { h[off / 4] = v; };
  w(HDR.pA, packedA ? offAP : offA);
  w(HDR.sam, transA && !packedA ? 4 : k * 4); // packed: row i = 4j + r at offAP + 16jk + 4r
  w(HDR.sak, packedA ? 4 * MR : transA ? m * 4 : 4);
  w(HDR.pB, offB);
  w(HDR.sbk, transB ? 4 : n * 4);
  w(HDR.sbn, transB ? k * 4 : 4);
  w(HDR.M, m); w(HDR.N, n); w(HDR.K, k);
  w(HDR.pC, offC); w(HDR.ldc, np * 4); w(HDR.pBias, offBias);
  new Float32Array(buf, HDR.lo, 1)[0] = job.relu ? 0 : -Infinity;
  w(HDR.ppc, ppc); w(HDR.pPack, offPack); w(HDR.packStride, packStride); w(HDR.nPanels, nPanels);
  w(HDR.rpc, rpc); w(HDR.nRowBlocks, nRowBlocks);
  w(HDR.amode, transA ? 1 : 0);
  p.run(groups * nRowBlocks, 2 * m * n * k >= PARALLEL_MIN_FLOPS);
  calls++;

  const c = new Float32Array(buf, offC, m * np);
  if (np === n) out.set(c);
  else for (let i = 0; i < m; i++) out.set(c.subarray(i * np, i * np + n), i * n);
  return true;
}
