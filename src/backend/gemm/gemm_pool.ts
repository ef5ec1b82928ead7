/**
 * The shared memory, the helper thread and the work scheduling of the wasm GEMM (gemm_simd.ts).
 *
 * One WebAssembly.Memory (shared) holds the control words, the job header, the operands and the result. The main
 * thread and (optionally) one worker_threads Worker instantiate the same module on it. A job is split into work
 * items; both threads claim items from one atomic word, NEXT = (generation << 16) | next item, with
 * compare-and-swap, so a claim can never leak into another job. The main thread starts computing at once: when
 * the worker is slow to wake (a loaded machine) the main thread simply takes more items, and it only waits for
 * items the worker actually claimed. Between jobs the worker waits in Atomics.wait on NEXT (short naps, then a
 * sleep until notified; see WORKER_SOURCE), is `unref()`ed so it never keeps the process alive, and is created
 * lazily on the first job.
 */
import { isMainThread, Worker } from 'node:worker_threads';
import { QatError } from '../../errors.js';
import { wasmApi, type WasmMemoryLike } from '../wasm_module.js';
import { gemmModuleBytes, HEADER_BYTES, type GemmExports } from './gemm_simd.js';

const PAGE = 65536;
/**
 * Upper limit of the shared memory (pages, 256 MiB): its address space is reserved up front, pages are committed on
 * growth and kept (a shared memory cannot shrink); larger matmuls run on the original kernels.
 */
const MAX_PAGES = 4096;
/** Control words (Int32Array indices). */
const NEXT = 0, DONE = 1, NCH = 2, QUIT = 3, ERR = 4, WITEMS = 5, SLEEP = 6;
/** Largest number of work items per job (the item index lives in the low 16 bits of NEXT). */
export const MAX_ITEMS = 0xffff;

/** After a job, the worker naps in short timed waits for this long (ms) before it sleeps until notified. */
const NAP_WINDOW_MS = 20;
/** Length of one nap (ms): a job waits up to this long for the worker; each nap costs ~30-60 us of CPU on this VM. */
const NAP_MS = 0.1;

/**
 * Plain-JS source of the worker thread (run with {eval: true}). Between jobs it first naps (timed Atomics.wait,
 * NAP_MS) and only after NAP_WINDOW_MS without work sleeps until notified, with SLEEP set. The main thread never
 * hands a job to a sleeping worker: measured on the 2-vCPU VM, a notify put the woken worker on the notifying
 * thread's core, where it ran the whole job while the main thread waited for its core; a napping worker wakes on
 * its own core. So the main thread computes a job alone when the worker sleeps and notifies it afterwards.
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const memory = workerData.memory;
const ex = new WebAssembly.Instance(new WebAssembly.Module(workerData.bytes), { env: { memory } }).exports;
const ctl = new Int32Array(memory.buffer, 0, 16);
let v = Atomics.load(ctl, ${NEXT});
let last = performance.now();
for (;;) {
  if (Atomics.load(ctl, ${QUIT}) !== 0) break;
  const n = Atomics.load(ctl, ${NCH});
  if ((v & 0xffff) < n) {
    const w = Atomics.compareExchange(ctl, ${NEXT}, v, v + 1);
    if (w !== v) { v = w; continue; }
    try { ex.chunk(v & 0xffff, 1); } catch (e) { Atomics.store(ctl, ${ERR}, 1); }
    Atomics.add(ctl, ${WITEMS}, 1);
    if (Atomics.add(ctl, ${DONE}, 1) + 1 === n) Atomics.notify(ctl, ${DONE});
    v = Atomics.load(ctl, ${NEXT});
    last = performance.now();
    continue;
  }
  if (performance.now() - last < ${NAP_WINDOW_MS}) {
    Atomics.wait(ctl, ${NEXT}, v, ${NAP_MS});
  } else {
    Atomics.store(ctl, ${SLEEP}, 1);
    Atomics.wait(ctl, ${NEXT}, v);
    Atomics.store(ctl, ${SLEEP}, 0);
    last = performance.now();
  }
  v = Atomics.load(ctl, ${NEXT});
}
`;

let threadOverride: number | undefined;

/** Force the GEMM's thread count (1 or 2) at run time, or undefined to go back to TFJS_QAT_THREADS / the default. */
export function setGemmThreads(n: number | undefined): void {
  threadOverride = n === undefined ? undefined : n <= 1 ? 1 : 2;
}

/**
 * Threads of the GEMM: setGemmThreads' value, else TFJS_QAT_THREADS (1 = no worker), else 2 on the main thread
 * and 1 inside worker threads (data-parallel training workers already use the other core).
 */
export function gemmThreads(): number {
  if (threadOverride !== undefined) return threadOverride;
  const raw = process.env['TFJS_QAT_THREADS'];
  const env = raw === undefined || raw.trim() === '' ? NaN : Number(raw);
  if (Number.isFinite(env)) return env <= 1 ? 1 : 2;
  return isMainThread ? 2 : 1;
}

/** The shared memory + module instance of this thread, and the optional worker. */
export class GemmPool {
  readonly memory: WasmMemoryLike;
  readonly exports: GemmExports;
  private readonly bytes: Uint8Array;
  private readonly ctl: Int32Array;
  private worker: Worker | null = null;
  private workerFailed = false;
  private gen = 0;
  private backoff = 0;
  private skipJobs = 0;
  /** Jobs where this thread waited long for the worker (each starts a back-off). */
  lateJobs = 0;
  /** Jobs this thread computed alone because the worker was asleep (it is woken after them). */
  aloneJobs = 0;
  /** Milliseconds this thread spent waiting for the worker's last items (all jobs). */
  waitMs = 0;

  private constructor(memory: WasmMemoryLike, bytes: Uint8Array, exports: GemmExports) {
    this.memory = memory;
    this.bytes = bytes;
    this.exports = exports;
    this.ctl = new Int32Array(memory.buffer, 0, 16);
  }

  /** A pool, or null when this engine has no shared WebAssembly memory or no wasm SIMD. */
  static create(): GemmPool | null {
    if (wasmApi === undefined) return null;
    try {
      const initial = 16;
      const MemoryCtor = wasmApi.Memory as new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemoryLike;
      const memory = new MemoryCtor({ initial, maximum: MAX_PAGES, shared: true });
      const bytes = gemmModuleBytes(initial, MAX_PAGES);
      const inst = new wasmApi.Instance(new wasmApi.Module(bytes), { env: { memory } });
      return new GemmPool(memory, bytes, inst.exports as GemmExports);
    } catch {
      return null;
    }
  }

  /** Bytes currently usable after the header. */
  get capacity(): number {
    return this.memory.buffer.byteLength - HEADER_BYTES;
  }

  /** Grow the memory so that `bytes` (including the header) fit; false when over the limit. */
  ensure(bytes: number): boolean {
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return true;
    const pages = Math.ceil((bytes - have) / PAGE);
    if (have / PAGE + pages > MAX_PAGES) return false;
    this.memory.grow(pages);
    return true;
  }

  /** Start the worker if wanted and not yet running (never throws; without a worker the main thread does all). */
  private startWorker(): void {
    if (this.worker !== null || this.workerFailed || gemmThreads() < 2) return;
    try {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { memory: this.memory, bytes: this.bytes } });
      w.unref();
      w.on('error', () => { this.workerFailed = true; });
      w.on('exit', () => { this.workerFailed = true; this.worker = null; });
      this.worker = w;
    } catch {
      this.workerFailed = true;
    }
  }

  /** Work items the worker thread has computed so far (all jobs). */
  get workerItems(): number {
    return Atomics.load(this.ctl, WITEMS);
  }

  /** True when a worker thread exists (it may still be starting). */
  get hasWorker(): boolean {
    return this.worker !== null;
  }

  /**
   * Run items 0..n-1 of the job whose header is written: the calling thread claims items alongside the worker and
   * returns when all are done. `parallel` false (small jobs) runs them all on this thread.
   *
   * A worker that holds an item while descheduled (a loaded machine) makes this thread wait; when the wait exceeds
   * half of this thread's own compute time, the next 1, 2, 4 ... 64 jobs run on this thread alone (a back-off,
   * reset by the next job where the worker keeps up).
   */
  run(n: number, parallel = true): void {
    if (n > MAX_ITEMS) throw new QatError(`wasm GEMM: ${n} work items exceed ${MAX_ITEMS}; use bigger chunks`);
    const ex = this.exports;
    if (!parallel || gemmThreads() < 2 || this.skipJobs > 0) {
      if (parallel && this.skipJobs > 0) this.skipJobs--;
      for (let c = 0; c < n; c++) ex.chunk(c, 0);
      return;
    }
    this.startWorker();
    const ctl = this.ctl;
    if (this.worker !== null && Atomics.load(ctl, SLEEP) === 1) {
      // A sleeping worker is not given this job (a notify now can put it on this core for the whole job): this
      // thread computes it, then wakes the worker, which finds no work and naps, ready for the next jobs.
      for (let c = 0; c < n; c++) ex.chunk(c, 0);
      Atomics.notify(ctl, NEXT, 1);
      this.aloneJobs++;
      return;
    }
    this.gen = (this.gen + 1) & 0x7fff;
    // closed first: a worker holding the previous job's last NEXT value cannot claim with the new item count
    Atomics.store(ctl, NEXT, (this.gen << 16) | MAX_ITEMS);
    Atomics.store(ctl, NCH, n);
    Atomics.store(ctl, DONE, 0);
    // (seq-cst: a worker that stores SLEEP after the load above sees this NEXT in its wait, which returns at once)
    Atomics.store(ctl, NEXT, this.gen << 16);
    const t0 = performance.now();
    let mine = 0;
    let failure: unknown = null;
    let v = Atomics.load(ctl, NEXT);
    while ((v & 0xffff) < n) {
      const w = Atomics.compareExchange(ctl, NEXT, v, v + 1);
      if (w !== v) { v = w; continue; }
      // a failing item still counts as done, so the job ends (and the worker is idle) before the error is thrown
      try { ex.chunk(v & 0xffff, 0); } catch (e) { failure ??= e; }
      Atomics.add(ctl, DONE, 1);
      mine++;
      v = Atomics.load(ctl, NEXT);
    }
    if (mine < n) {
      const t1 = performance.now();
      for (let i = 0; i < 4000; i++) if (Atomics.load(ctl, DONE) === n) break;
      for (;;) {
        const d = Atomics.load(ctl, DONE);
        if (d === n) break;
        Atomics.wait(ctl, DONE, d, 50);
      }
      const waited = performance.now() - t1;
      this.waitMs += waited;
      if (waited > 0.1 && waited > 0.5 * (t1 - t0)) {
        this.backoff = Math.min(64, Math.max(1, 2 * this.backoff));
        this.skipJobs = this.backoff;
        this.lateJobs++;
      } else {
        this.backoff = 0;
      }
    }
    if (failure !== null) throw failure;
    if (Atomics.load(ctl, ERR) !== 0) {
      Atomics.store(ctl, ERR, 0);
      throw new QatError('wasm GEMM: the worker thread failed on a work item; set TFJS_QAT_THREADS=1 to run single-threaded');
    }
  }

  /** Stop the worker; a later job starts a new one (the worker is unref()ed, so a process exits without this). */
  async shutdown(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w === null) return;
    w.removeAllListeners('exit');
    w.removeAllListeners('error');
    Atomics.store(this.ctl, QUIT, 1);
    Atomics.notify(this.ctl, NEXT);
    await w.terminate();
    Atomics.store(this.ctl, QUIT, 0);
  }
}
