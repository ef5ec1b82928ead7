/**
 * Data-parallel training steps: the batch is split into contiguous parts; the training thread computes the
 * gradients of part 0 while worker threads compute the others on their own model replicas. Gradients are
 * averaged weighted by rows (= the gradient of the whole batch's mean loss), `onGradComputed` callbacks run on
 * the average, and the training thread's optimizer applies it. Weights go to the workers before each step
 * (only those that changed), so callbacks may change the model freely between steps.
 *
 * Non-trainable state (quantizer running statistics, counters) is updated by each thread from its own part and
 * then replaced by the row-weighted mean of the threads' values. For Brevitas' runtime-statistics scale this
 * means: the collection-phase scale of a step is the statistic of the thread's own part (not of the whole
 * batch), and the running buffer is the EMA of the mean of the per-part statistics (Brevitas: of the whole-batch
 * statistic). Results are deterministic for a given seed and worker count, not equal across worker counts.
 */
import * as tf from '@tensorflow/tfjs';
import { withVariableOnlyGradients } from '../../layers/grad_scope.js';
import { ConfigError, QatError } from '../../errors.js';
import type { Callback, GradContext, TrainableVariableInfo, TrainingContext } from '../callback.js';
import type { Criterion } from '../net_options.js';
import { withMathRandom, type Rng } from '../rng.js';
import { trainableOrder } from './model_vars.js';
import { chooseWorkerCount, type WorkersOption } from './options.js';
import { batchArrays, makeLayout, view, type MaskUpdate, type SharedData, type SharedLayout } from './protocol.js';
import { acquireWorkers, type WorkerHandle } from './worker_handle.js';
import { PROFILE_ON, recordStep, threadCpuMs } from './profile.js';

/** What a parallel session needs from the estimator (read live: callbacks may be replaced during a fit). */
export interface ParallelHost {
  readonly model: tf.LayersModel;
  readonly optimizer: tf.Optimizer;
  readonly vars: readonly TrainableVariableInfo[];
  readonly callbacks: ReadonlyArray<readonly [string, Callback]>;
  readonly criterion: Criterion;
  /** The generator of in-step randomness (dropout) and of the workers' step seeds. */
  readonly rng: Rng;
  computeLoss(yTrue: tf.Tensor, out: tf.Tensor): tf.Scalar;
}

interface MaskableLike { setWeightMask(m: tf.Tensor | null): void; getWeightMask(): tf.Tensor | null }

function isMaskable(l: unknown): l is MaskableLike {
  const m = l as Partial<MaskableLike>;
  return typeof m.getWeightMask === 'function' && typeof m.setWeightMask === 'function';
}

/** A shared copy of a float tensor's values. */
function toShared(t: tf.Tensor): SharedArrayBuffer {
  const buf = new SharedArrayBuffer(t.size * 4);
  new Float32Array(buf).set(t.dataSync() as Float32Array);
  return buf;
}

/** Split `n` rows into `k` contiguous parts, the first `n % k` one row larger. */
export function splitRows(n: number, k: number): Array<[number, number]> {
  const base = Math.floor(n / k);
  const extra = n % k;
  const out: Array<[number, number]> = [];
  let s = 0;
  for (let i = 0; i < k; i++) {
    const len = base + (i < extra ? 1 : 0);
    out.push([s, s + len]);
    s += len;
  }
  return out;
}

/** A fit's worker threads and shared memory. Create with `ParallelSession.start`, end with `close`. */
export class ParallelSession {
  private readonly f32: Float32Array;
  private readonly sentData = new Map<number, object>();
  private readonly sentMasks = new Map<string, tf.Tensor | null>();
  private stepId = 0;
  private closed = false;

  private constructor(private readonly host: ParallelHost, private readonly workers: WorkerHandle[],
    private readonly layout: SharedLayout, buffer: SharedArrayBuffer, private readonly data: SharedData) {
    this.f32 = new Float32Array(buffer);
  }

  /** Threads per step (training thread included). */
  get nThreads(): number {
    return this.workers.length + 1;
  }

  /**
   * Start (or reuse) the worker threads for a fit, or return null when `workers` resolves to 1. X and Y (all
   * rows of the fit) are copied once into shared memory.
   * @throws ConfigError for an explicit count > 1 with a custom loss function; QatError when a worker cannot build the model.
   */
  static async start(host: ParallelHost, opt: WorkersOption, X: tf.Tensor, Y: tf.Tensor, batchRows: number): Promise<ParallelSession | null> {
    const model = host.model;
    const builtIn = host.criterion === 'crossEntropy' || host.criterion === 'mse';
    const k = chooseWorkerCount(opt, { backend: tf.getBackend(), builtInCriterion: builtIn, model, batchRows });
    if (k <= 1) return null;
    if (!builtIn) throw new ConfigError(`workers: ${k} needs criterion 'crossEntropy' or 'mse' (a loss function cannot be sent to a worker thread); use workers: 1`);
    const order = trainableOrder(model);
    const all = model.weights.map((w) => w.read());
    if (order.length !== host.vars.length || order.some((wi, j) => all[wi] !== host.vars[j]?.variable)) {
      throw new QatError('parallel training: the trainable variables differ from model.weights; use workers: 1');
    }
    const isTrainable = all.map((_, i) => order.includes(i));
    const layout = makeLayout(model.weights.map((w) => w.shape.map((d) => d ?? 1)), isTrainable, order, k - 1);
    const buffer = new SharedArrayBuffer(layout.length * 4);
    const data: SharedData = { x: toShared(X), y: toShared(Y), sampleShape: X.shape.slice(1), nOutputs: Y.shape[1] ?? 1 };
    const workers = acquireWorkers(k - 1);
    const modelTopology = model.toJSON(null, false);
    for (const w of workers) w.setActive(true);
    const session = new ParallelSession(host, workers, layout, buffer, data);
    try {
      await Promise.all(workers.map((w, r) => w.init({ type: 'init', backend: tf.getBackend(), modelTopology, criterion: host.criterion as 'crossEntropy' | 'mse',
        buffer, layout, data, region: r })));
    } catch (e) {
      await session.close();
      throw e;
    }
    return session;
  }

  /** Masks of maskable layers that changed since the last step. */
  private maskUpdates(): MaskUpdate[] {
    const out: MaskUpdate[] = [];
    for (const layer of this.host.model.layers) {
      if (!isMaskable(layer)) continue;
      const m = layer.getWeightMask();
      if (this.sentMasks.has(layer.name) && this.sentMasks.get(layer.name) === m) continue;
      this.sentMasks.set(layer.name, m);
      out.push({ layer: layer.name, shape: m?.shape ?? [], data: m === null ? null : (m.dataSync() as Float32Array).slice() });
    }
    return out;
  }

  /** Write the weights whose data changed since they were last sent; returns their indices. */
  private sendWeights(): number[] {
    const changed: number[] = [];
    this.host.model.weights.forEach((w, i) => {
      const t = w.read();
      if (this.sentData.get(i) === t.dataId) return;
      const s = this.layout.weights[i];
      if (s === undefined) return;
      view(this.f32, s).set(t.dataSync() as Float32Array);
      this.sentData.set(i, t.dataId as object);
      changed.push(i);
    });
    return changed;
  }

  /**
   * One data-parallel optimization step on rows `idx` of the fit's X and Y (same contract as NeuralNet.trainStep).
   * @throws QatError when a worker fails (the session is then closed).
   */
  async step(idx: Int32Array, ctx: TrainingContext): Promise<number> {
    if (this.closed) throw new QatError('parallel training: the session is closed');
    const host = this.host;
    const parts = splitRows(idx.length, this.nThreads);
    const id = ++this.stepId;
    const t0 = PROFILE_ON ? threadCpuMs() : 0;
    const masks = this.maskUpdates();
    const changed = this.sendWeights();
    const pending: Array<Promise<number> | null> = this.workers.map((w, r) => {
      const [s, e] = parts[r + 1] ?? [0, 0];
      const seed = String(host.rng());
      return e <= s ? null : w.step({ type: 'step', id, rows: idx.slice(s, e), seed, masks, changed });
    });
    const t1 = PROFILE_ON ? threadCpuMs() : 0;
    const [s0, e0] = parts[0] ?? [0, 0];
    const vars = host.vars;
    const { x, y } = batchArrays(this.data, idx.subarray(s0, e0));
    const own = withMathRandom(host.rng, () => tf.tidy(() => {
      const xb = tf.tensor(x, [e0 - s0, ...this.data.sampleShape]);
      const yb = tf.tensor(y, [e0 - s0, this.data.nOutputs]);
      const { value, grads } = tf.variableGrads(() => withVariableOnlyGradients(() => host.computeLoss(yb, host.model.apply(xb, { training: true }) as tf.Tensor)),
        vars.map((v) => v.variable));
      return { value, grads: vars.map((v) => grads[v.name] ?? tf.zerosLike(v.variable)) };
    }));
    const t2 = PROFILE_ON ? threadCpuMs() : 0;
    let losses: Array<number | null>;
    try {
      losses = await Promise.all(pending);
    } catch (e) {
      tf.dispose([own.value, ...own.grads]);
      await this.close();
      throw e;
    }
    const t3 = PROFILE_ON ? threadCpuMs() : 0;
    const n = idx.length;
    const weights = parts.map(([s, e]) => (e - s) / n);
    const ownLoss = own.value.dataSync()[0] ?? NaN;
    let loss = ownLoss * (weights[0] ?? 0);
    losses.forEach((l, r) => { if (l !== null) loss += l * (weights[r + 1] ?? 0); });
    this.mergeState(losses, weights);
    tf.tidy(() => {
      const grads: Record<string, tf.Tensor> = {};
      vars.forEach((v, j) => {
        let g = tf.mul(own.grads[j] as tf.Tensor, weights[0] ?? 0);
        losses.forEach((l, r) => {
          const slot = this.layout.regions[r]?.grads[j];
          if (l === null || slot === undefined) return;
          const v = view(this.f32, slot);
          g = tf.add(g, tf.mul(tf.tensor(tf.getBackend() === 'wasm' ? v : v.slice(), [...slot.shape]), weights[r + 1] ?? 0));
        });
        grads[v.name] = g;
      });
      if (host.callbacks.some(([, c]) => c.onGradComputed !== undefined)) {
        const gctx: GradContext = { ...ctx, epoch: ctx.epoch, grads, variables: vars };
        for (const [, cb] of host.callbacks) cb.onGradComputed?.(gctx);
      }
      host.optimizer.applyGradients(vars.map((v) => ({ name: v.name, tensor: grads[v.name] ?? tf.zerosLike(v.variable) })));
    });
    tf.dispose([own.value, ...own.grads]);
    if (PROFILE_ON) recordStep({ serialMs: t1 - t0 + threadCpuMs() - t3, ownMs: t2 - t1, workerMs: Math.max(0, ...this.workers.map((w) => w.lastCpuMs)) });
    return loss;
  }

  /** Replace each non-trainable weight by the row-weighted mean of the threads' values (unchanged when all agree). */
  private mergeState(losses: ReadonlyArray<number | null>, weights: readonly number[]): void {
    const model = this.host.model;
    this.layout.stateIdx.forEach((wi, j) => {
      const w = model.weights[wi];
      if (w === undefined) return;
      const a = w.read().dataSync() as Float32Array;
      let merged: Float64Array | null = null;
      losses.forEach((l, r) => {
        const slot = this.layout.regions[r]?.state[j];
        if (l === null || slot === undefined) return;
        const b = view(this.f32, slot);
        const wr = weights[r + 1] ?? 0;
        for (let i = 0; i < a.length; i++) {
          const ai = a[i] as number;
          const d = (b[i] as number) - ai;
          if (d === 0) continue;
          merged ??= Float64Array.from(a);
          merged[i] = (merged[i] as number) + wr * d;
        }
      });
      const m: Float64Array | null = merged;
      if (m !== null) tf.tidy(() => { w.write(tf.tensor(Float32Array.from(m), w.shape.map((d) => d ?? 1))); });
    });
  }

  /** Release the workers for reuse (or for good after a failure); idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.workers) {
      if (w.isDead) await w.terminate();
      else { w.reset(); w.setActive(false); }
    }
  }
}
