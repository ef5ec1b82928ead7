/**
 * Messages and shared-memory layout between the training thread and its data-parallel workers.
 * Bulk data (weights, batch rows, gradients) moves through one SharedArrayBuffer of float32; messages carry
 * only small control data.
 */

/** Where one tensor lives in the shared float32 array. */
export interface Slot {
  /** Offset in float32 elements. */
  readonly offset: number;
  readonly shape: readonly number[];
  readonly size: number;
}

/** Per-worker region: its gradients and non-trainable state out. */
export interface WorkerRegion {
  /** One slot per trainable variable, in optimizer order. */
  readonly grads: readonly Slot[];
  /** One slot per non-trainable weight, in `model.weights` order. */
  readonly state: readonly Slot[];
}

/** The whole layout: the weights every worker reads, then one region per worker. */
export interface SharedLayout {
  /** One slot per model weight (`model.weights` order, trainable and not). */
  readonly weights: readonly Slot[];
  /** Indices into `weights` of the trainable variables, in optimizer order. */
  readonly trainableIdx: readonly number[];
  /** Indices into `weights` of the non-trainable weights. */
  readonly stateIdx: readonly number[];
  readonly regions: readonly WorkerRegion[];
  /** Total float32 elements. */
  readonly length: number;
}

/** Built-in losses a worker can compute (a loss function cannot be sent to a thread). */
export type WorkerCriterion = 'crossEntropy' | 'mse';

/** The fit's data, copied once into shared memory: every thread builds its batch rows from it. */
export interface SharedData {
  /** Features, row-major `[n, ...sampleShape]`. */
  readonly x: SharedArrayBuffer;
  /** Encoded targets, row-major `[n, nOutputs]`. */
  readonly y: SharedArrayBuffer;
  readonly sampleShape: readonly number[];
  readonly nOutputs: number;
}

/** Main -> worker: build the model. */
export interface InitMessage {
  readonly type: 'init';
  readonly backend: string;
  /** `model.toJSON(null, false)`. */
  readonly modelTopology: unknown;
  readonly criterion: WorkerCriterion;
  readonly buffer: SharedArrayBuffer;
  readonly layout: SharedLayout;
  readonly data: SharedData;
  /** Which region of the layout is this worker's. */
  readonly region: number;
}

/** A pruning mask change of one layer (null clears it). */
export interface MaskUpdate {
  readonly layer: string;
  readonly shape: readonly number[];
  readonly data: Float32Array | null;
}

/** Main -> worker: compute the gradients of the given rows of the shared data. */
export interface StepMessage {
  readonly type: 'step';
  readonly id: number;
  /** Row indices into the shared data. */
  readonly rows: Int32Array;
  /** Seed of `Math.random` during the forward (dropout). */
  readonly seed: string;
  /** Indices (model.weights order) of the weights that changed since the last step. */
  readonly changed: readonly number[];
  /** Pruning masks that changed since the last step. */
  readonly masks: readonly MaskUpdate[];
}

/** Main -> worker: dispose the model (the thread stays for the next fit). */
export interface ResetMessage {
  readonly type: 'reset';
}

/** Messages a worker receives. */
export type ToWorker = InitMessage | StepMessage | ResetMessage;

/** Worker -> main. */
export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'done'; readonly id: number; readonly loss: number; readonly cpuMs?: number }
  | { readonly type: 'error'; readonly message: string };

function slot(offset: number, shape: readonly number[]): Slot {
  return { offset, shape: [...shape], size: shape.reduce((a, b) => a * b, 1) };
}

/** Lay out the shared array: all weights, then per worker its gradients and state. */
export function makeLayout(weightShapes: readonly (readonly number[])[], trainable: readonly boolean[], trainableOrder: readonly number[],
  nWorkers: number): SharedLayout {
  let off = 0;
  const take = (shape: readonly number[]): Slot => { const s = slot(off, shape); off += s.size; return s; };
  const weights = weightShapes.map((s) => take(s));
  const stateIdx = trainable.map((t, i) => (t ? -1 : i)).filter((i) => i >= 0);
  const regions: WorkerRegion[] = [];
  for (let w = 0; w < nWorkers; w++) {
    regions.push({
      grads: trainableOrder.map((i) => take(weightShapes[i] ?? [])),
      state: stateIdx.map((i) => take(weightShapes[i] ?? [])),
    });
  }
  return { weights, trainableIdx: [...trainableOrder], stateIdx, regions, length: off };
}

/**
 * The rows `rows` of the shared data as tensors `[rows.length, ...sampleShape]` and `[rows.length, nOutputs]`
 * (a JS copy per row: tfjs-backend-wasm's Gather takes ~4 ms for 64 rows of 784, this ~0.1 ms).
 */
export function batchArrays(d: SharedData, rows: ArrayLike<number>): { x: Float32Array; y: Float32Array } {
  const sx = d.sampleShape.reduce((a, b) => a * b, 1);
  const sy = d.nOutputs;
  const X = new Float32Array(d.x);
  const Y = new Float32Array(d.y);
  const x = new Float32Array(rows.length * sx);
  const y = new Float32Array(rows.length * sy);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as number;
    x.set(X.subarray(r * sx, r * sx + sx), i * sx);
    y.set(Y.subarray(r * sy, r * sy + sy), i * sy);
  }
  return { x, y };
}

/** A view of `slot` in the shared float32 array. */
export function view(f32: Float32Array, s: Slot, size = s.size): Float32Array {
  return f32.subarray(s.offset, s.offset + size);
}
