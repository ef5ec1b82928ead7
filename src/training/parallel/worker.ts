/**
 * Entry point of a data-parallel training worker thread. It holds a replica of the model on its own tfjs
 * backend; per step it takes the weights and its share of the batch from shared memory, runs the training-mode
 * forward and backward pass, and writes back its gradients and its non-trainable state (quantizer statistics).
 * It never applies an update: the training thread owns the optimizer.
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { withVariableOnlyGradients } from '../../layers/grad_scope.js';
import '../../layers/register.js';
import { useBackend, type BackendName } from '../../backend/use_backend.js';
import { makeRng, withMathRandom } from '../rng.js';
import { batchArrays, view, type FromWorker, type InitMessage, type MaskUpdate, type StepMessage, type ToWorker } from './protocol.js';
import { trainableOrder } from './model_vars.js';
import { PROFILE_ON, threadCpuMs } from './profile.js';

interface Replica {
  readonly model: tf.LayersModel;
  readonly init: InitMessage;
  readonly f32: Float32Array;
  readonly trainable: tf.Variable[];
}

let replica: Replica | null = null;

/** The array itself on wasm (copied into the heap by tfjs), else a private copy of the shared view. */
function ownCopy(v: Float32Array): Float32Array {
  return tf.getBackend() === 'wasm' ? v : v.slice();
}

function post(m: FromWorker): void {
  parentPort?.postMessage(m);
}

function errorText(e: unknown): string {
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return text.replace(/\s*\n\s*/g, ' ').replace(/[.\s]+$/, '');
}

async function init(m: InitMessage): Promise<void> {
  reset();
  await useBackend(m.backend as BackendName, { quiet: true });
  const model = await tf.models.modelFromJSON({ modelTopology: m.modelTopology } as Parameters<typeof tf.models.modelFromJSON>[0]);
  const order = trainableOrder(model);
  const shapes = model.weights.map((w) => w.shape.join(','));
  const expected = m.layout.weights.map((s) => s.shape.join(','));
  if (shapes.join(';') !== expected.join(';') || order.join(',') !== m.layout.trainableIdx.join(',')) {
    model.dispose();
    throw new Error(`the model rebuilt from its JSON has weights [${shapes.join(' | ')}], the training model [${expected.join(' | ')}]`);
  }
  const trainable = order.map((i) => model.weights[i]?.read() as tf.Variable);
  replica = { model, init: m, f32: new Float32Array(m.buffer), trainable };
}

function reset(): void {
  replica?.model.dispose();
  replica = null;
}

function applyMasks(model: tf.LayersModel, masks: readonly MaskUpdate[]): void {
  for (const u of masks) {
    const layer = model.getLayer(u.layer) as unknown as { setWeightMask?: (m: tf.Tensor | null) => void };
    if (typeof layer.setWeightMask !== 'function') throw new Error(`layer ${u.layer} has no setWeightMask`);
    const setMask = layer.setWeightMask.bind(layer);
    if (u.data === null) setMask(null);
    else tf.tidy(() => { setMask(tf.tensor(u.data as Float32Array, [...u.shape])); });
  }
}

function loss(criterion: InitMessage['criterion'], yTrue: tf.Tensor, out: tf.Tensor): tf.Scalar {
  return (criterion === 'crossEntropy' ? tf.losses.softmaxCrossEntropy(yTrue, out) : tf.losses.meanSquaredError(yTrue, out)) as tf.Scalar;
}

function step(m: StepMessage): number {
  if (replica === null) throw new Error('step before init');
  const { model, init: ini, f32, trainable } = replica;
  const layout = ini.layout;
  const region = layout.regions[ini.region];
  if (region === undefined) throw new Error(`no region ${ini.region}`);
  applyMasks(model, m.masks);
  tf.tidy(() => {
    for (const i of m.changed) {
      const s = layout.weights[i];
      const w = model.weights[i];
      // wasm copies values into its heap at once; other backends may keep the array, so give them a copy
      if (s !== undefined && w !== undefined) w.write(tf.tensor(ownCopy(view(f32, s)), [...s.shape]));
    }
  });
  const { x, y } = batchArrays(ini.data, m.rows);
  const n = m.rows.length;
  const lossT = withMathRandom(makeRng(m.seed), () => tf.tidy(() => {
    const xb = tf.tensor(x, [n, ...ini.data.sampleShape]);
    const yb = tf.tensor(y, [n, ini.data.nOutputs]);
    const { value, grads } = tf.variableGrads(() => withVariableOnlyGradients(() => loss(ini.criterion, yb, model.apply(xb, { training: true }) as tf.Tensor)), trainable);
    trainable.forEach((v, j) => {
      const g = grads[v.name];
      const s = region.grads[j];
      if (s === undefined) return;
      const out = view(f32, s);
      if (g === undefined) out.fill(0);
      else out.set(g.dataSync() as Float32Array);
    });
    return value;
  }));
  layout.stateIdx.forEach((wi, j) => {
    const s = region.state[j];
    const w = model.weights[wi];
    if (s !== undefined && w !== undefined) view(f32, s).set(w.read().dataSync() as Float32Array);
  });
  const l = lossT.dataSync()[0] ?? NaN;
  lossT.dispose();
  return l;
}

parentPort?.on('message', (m: ToWorker) => {
  void (async () => {
    try {
      if (m.type === 'init') { await init(m); post({ type: 'ready' }); }
      else if (m.type === 'step') {
        const t0 = PROFILE_ON ? threadCpuMs() : 0;
        const loss = step(m);
        post({ type: 'done', id: m.id, loss, ...(PROFILE_ON ? { cpuMs: threadCpuMs() - t0 } : {}) });
      }
      else reset();
    } catch (e) {
      post({ type: 'error', message: errorText(e) });
    }
  })();
});
