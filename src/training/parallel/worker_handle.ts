/**
 * One data-parallel worker thread seen from the training thread: spawn (TypeScript sources run through tsx),
 * request/response with promises, failure surfacing as QatError, and ref/unref so that idle workers never keep
 * the process alive. Threads are started lazily and reused by later fits (`shutdownParallelWorkers` ends them).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { QatError } from '../../errors.js';
import type { FromWorker, InitMessage, StepMessage } from './protocol.js';

/** URL of tsx's ESM register API (under mocha tsx runs this file as CommonJS, without import.meta.resolve). */
function tsxApiUrl(): string {
  const meta = import.meta as { resolve?: (s: string) => string };
  if (typeof meta.resolve === 'function') return meta.resolve('tsx/esm/api');
  const cjs = createRequire(import.meta.url).resolve('tsx/esm/api');
  const mjs = cjs.replace(/\.cjs$/, '.mjs');
  return pathToFileURL(existsSync(mjs) ? mjs : cjs).href;
}

/**
 * The worker thread: `worker.js` when running compiled code; from TypeScript sources a small bootstrap that
 * registers tsx's loader inside the thread first (Node 20 does not apply `--import tsx` hooks to a worker's entry).
 */
function spawnWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url));
  const entry = new URL('./worker.ts', import.meta.url).href;
  const api = tsxApiUrl();
  const boot = `import(${JSON.stringify(api)}).then((m) => { (m.register ?? m.default.register)(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true });
}

/** A worker thread and its one pending request. */
export class WorkerHandle {
  private readonly worker: Worker;
  private pending: { resolve: (m: FromWorker) => void; reject: (e: Error) => void; what: string } | null = null;
  private dead: Error | null = null;
  /** Thread CPU ms of the last step (profiling on only). */
  lastCpuMs = 0;
  /** Index of this worker (1-based; the training thread is 0). */
  readonly index: number;

  constructor(index: number) {
    this.index = index;
    this.worker = spawnWorker();
    this.worker.unref();
    this.worker.on('message', (m: FromWorker) => this.settle(m));
    this.worker.on('error', (e: Error) => this.fail(`crashed: ${e.message}`));
    this.worker.on('exit', (code: number) => this.fail(`exited with code ${code}`));
  }

  /** True once the thread failed or exited; a dead handle is never reused. */
  get isDead(): boolean {
    return this.dead !== null;
  }

  private settle(m: FromWorker): void {
    const p = this.pending;
    this.pending = null;
    if (p === null) return;
    if (m.type === 'error') p.reject(this.error(`failed during ${p.what}: ${m.message}`));
    else p.resolve(m);
  }

  private fail(why: string): void {
    if (this.dead === null) this.dead = this.error(why);
    const p = this.pending;
    this.pending = null;
    p?.reject(this.dead);
  }

  private error(why: string): QatError {
    return new QatError(`parallel training: worker ${this.index} ${why}. Train with workers: 1 to run without worker threads.`);
  }

  private request(m: InitMessage | StepMessage, what: string): Promise<FromWorker> {
    if (this.dead !== null) return Promise.reject(this.dead);
    if (this.pending !== null) return Promise.reject(this.error(`got a ${what} request while busy with ${this.pending.what}`));
    return new Promise<FromWorker>((resolve, reject) => {
      this.pending = { resolve, reject, what };
      this.worker.postMessage(m);
    });
  }

  /** Build the model replica; resolves when the worker is ready. */
  async init(m: InitMessage): Promise<void> {
    const r = await this.request(m, 'initialization');
    if (r.type !== 'ready') throw this.error(`answered ${r.type} to init`);
  }

  /** Run one step on the rows already in shared memory; resolves with the worker's mean loss. */
  async step(m: StepMessage): Promise<number> {
    const r = await this.request(m, `step ${m.id}`);
    if (r.type !== 'done' || r.id !== m.id) throw this.error(`answered ${r.type} to step ${m.id}`);
    this.lastCpuMs = r.cpuMs ?? 0;
    return r.loss;
  }

  /** Keep the process alive while a fit uses this worker (true) or not (false). */
  setActive(active: boolean): void {
    if (active) this.worker.ref();
    else this.worker.unref();
  }

  /** Drop the model replica (the thread stays for reuse). */
  reset(): void {
    if (this.dead === null) this.worker.postMessage({ type: 'reset' });
  }

  /** End the thread. */
  async terminate(): Promise<void> {
    this.dead ??= this.error('was shut down');
    await this.worker.terminate();
  }
}

const pool: WorkerHandle[] = [];

/** `n` live worker threads (1-based indices), starting new ones as needed. */
export function acquireWorkers(n: number): WorkerHandle[] {
  for (let i = pool.length - 1; i >= 0; i--) if (pool[i]?.isDead === true) pool.splice(i, 1);
  while (pool.length < n) pool.push(new WorkerHandle(pool.length + 1));
  return pool.slice(0, n);
}

/**
 * End every data-parallel worker thread. Idle workers do not keep the process alive, so calling this is
 * optional; it frees their memory (each holds its own tfjs backend).
 * @example await shutdownParallelWorkers();
 */
export async function shutdownParallelWorkers(): Promise<void> {
  const all = pool.splice(0, pool.length);
  await Promise.all(all.map((w) => w.terminate()));
}
