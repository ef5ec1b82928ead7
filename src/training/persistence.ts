/**
 * saveParams / loadParams: weights (trainable and not), per-layer quantizer state and pruning masks,
 * optimizer state, history and fitted metadata, written atomically to a directory:
 *   params.json (format, sizes, metadata, tensor manifest), weights.bin (float32), history.json.
 * Loading needs an estimator built with the same parameters (the module is rebuilt from them).
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ModelFileError } from '../errors.js';
import { History, type EpochRecord } from './history.js';
import type { NeuralNet } from './net.js';

/** Version of the params.json layout. */
export const PARAMS_FORMAT_VERSION = 1;

interface TensorEntry { readonly shape: number[]; readonly offset: number; readonly size: number; readonly dtype: string }
type StateValue = number | string | boolean | null | TensorEntry | { readonly tensor: TensorEntry };

interface ParamsFile {
  readonly formatVersion: number;
  readonly className: string;
  readonly sampleShape: number[];
  readonly nOutputs: number;
  readonly meta: Record<string, unknown>;
  readonly weights: TensorEntry[];
  readonly layers: Array<{ readonly index: number; readonly name: string; readonly quantState?: Record<string, StateValue>; readonly mask?: TensorEntry | null }>;
  readonly optimizer: { readonly className: string; readonly weights: Array<TensorEntry & { readonly name: string }> } | null;
}

/** Duck-typed per-layer extras (QuantIdentity's quantizer state, QuantLinear's pruning mask). */
interface LayerExtras {
  getQuantState?: () => Record<string, unknown>;
  setQuantState?: (s: Record<string, unknown>) => void;
  getWeightMask?: () => tf.Tensor | null;
  setWeightMask?: (m: tf.Tensor | null) => void;
}

class Packer {
  private chunks: Float32Array[] = [];
  private size = 0;
  add(t: tf.Tensor): TensorEntry {
    const data = Float32Array.from(t.dataSync() as ArrayLike<number>);
    const e = { shape: [...t.shape], offset: this.size, size: data.length, dtype: t.dtype };
    this.chunks.push(data);
    this.size += data.length;
    return e;
  }
  bytes(): Uint8Array {
    const all = new Float32Array(this.size);
    let o = 0;
    for (const c of this.chunks) { all.set(c, o); o += c.length; }
    return new Uint8Array(all.buffer);
  }
}

function unpack(buf: Float32Array, e: TensorEntry): tf.Tensor {
  if (e.offset + e.size > buf.length) throw new ModelFileError(`weights.bin is too short for a tensor at offset ${e.offset} (size ${e.size}); the file is truncated or corrupt`);
  const vals = buf.subarray(e.offset, e.offset + e.size);
  return e.dtype === 'int32' ? tf.tensor(Int32Array.from(vals), e.shape, 'int32') : tf.tensor(Float32Array.from(vals), e.shape, 'float32');
}

/**
 * Write the fitted state of `net` into `dir` (created if needed; replaced atomically).
 * @throws NotInitializedError when the net has not been fitted or loaded.
 */
export async function saveParams(net: NeuralNet<unknown>, dir: string): Promise<void> {
  const model = net.model;
  const packer = new Packer();
  const weights = model.weights.map((w) => packer.add(w.read()));
  const layers: ParamsFile['layers'][number][] = [];
  model.layers.forEach((layer, index) => {
    const ex = layer as unknown as LayerExtras;
    const entry: { index: number; name: string; quantState?: Record<string, StateValue>; mask?: TensorEntry | null } = { index, name: layer.name };
    if (typeof ex.getQuantState === 'function') {
      const st: Record<string, StateValue> = {};
      for (const [k, v] of Object.entries(ex.getQuantState())) {
        if (v instanceof tf.Tensor) st[k] = { tensor: packer.add(v) };
        else if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || v === null) st[k] = v;
      }
      entry.quantState = st;
    }
    if (typeof ex.getWeightMask === 'function') {
      const m = ex.getWeightMask();
      entry.mask = m === null ? null : packer.add(m);
    }
    if (entry.quantState !== undefined || entry.mask !== undefined) layers.push(entry);
  });
  let optimizer: ParamsFile['optimizer'] = null;
  if (net.optimizer_ !== undefined) {
    const ow = await net.optimizer_.getWeights();
    optimizer = { className: net.optimizer_.getClassName(), weights: ow.map((w) => ({ name: w.name, ...packer.add(w.tensor) })) };
  }
  const file: ParamsFile = {
    formatVersion: PARAMS_FORMAT_VERSION,
    className: net.constructor.name,
    sampleShape: net.sampleShape_ ?? [],
    nOutputs: net.nOutputs_ ?? 0,
    meta: net.getFittedMeta(),
    weights,
    layers,
    optimizer,
  };
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `.${basename(dir)}.tmp-${process.pid}-${Date.now()}`);
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'params.json'), JSON.stringify(file));
  writeFileSync(join(tmp, 'weights.bin'), packer.bytes());
  writeFileSync(join(tmp, 'history.json'), JSON.stringify(net.history.toJSON()));
  const old = join(parent, `.${basename(dir)}.old-${process.pid}-${Date.now()}`);
  const hadOld = existsSync(dir);
  if (hadOld) renameSync(dir, old);
  renameSync(tmp, dir);
  if (hadOld) rmSync(old, { recursive: true, force: true });
}

function readParamsFile(dir: string): { file: ParamsFile; buf: Float32Array; history: EpochRecord[] } {
  const read = (name: string): Buffer => {
    try {
      return readFileSync(join(dir, name));
    } catch (e) {
      throw new ModelFileError(`cannot read ${join(dir, name)} (${e instanceof Error ? e.message : String(e)}); pass a directory written by saveParams`);
    }
  };
  let file: ParamsFile;
  let history: EpochRecord[];
  try {
    file = JSON.parse(read('params.json').toString('utf8')) as ParamsFile;
    history = JSON.parse(read('history.json').toString('utf8')) as EpochRecord[];
  } catch (e) {
    if (e instanceof ModelFileError) throw e;
    throw new ModelFileError(`${dir}: params.json or history.json is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (file.formatVersion !== PARAMS_FORMAT_VERSION) {
    throw new ModelFileError(`${join(dir, 'params.json')}: formatVersion ${String(file.formatVersion)} is not supported (expected ${PARAMS_FORMAT_VERSION})`);
  }
  const raw = read('weights.bin');
  const buf = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  return { file, buf, history };
}

/**
 * Restore what `saveParams` wrote into `net` (built with the same parameters; initializes it if needed).
 * @throws ModelFileError on missing/corrupt files or when the saved weights do not fit the module.
 */
export async function loadParams(net: NeuralNet<unknown>, dir: string): Promise<void> {
  const { file, buf, history } = readParamsFile(dir);
  net.initialize({ inputShape: file.sampleShape, nOutputs: file.nOutputs });
  net.setFittedMeta(file.meta);
  const model = net.model;
  if (model.weights.length !== file.weights.length) {
    throw new ModelFileError(`${dir}: saved ${file.weights.length} weight tensors but the module has ${model.weights.length}; ` +
      'build the estimator with the same module parameters as when it was saved');
  }
  const tensors = file.weights.map((e, i) => {
    const w = model.weights[i];
    if (w === undefined || w.shape.join(',') !== e.shape.join(',')) {
      throw new ModelFileError(`${dir}: weight ${i} has shape [${e.shape.join(', ')}] but the module expects [${w?.shape.join(', ') ?? '?'}]`);
    }
    return unpack(buf, e);
  });
  tf.tidy(() => { model.weights.forEach((w, i) => { w.write(tensors[i] as tf.Tensor); }); });
  tensors.forEach((t) => t.dispose());
  for (const entry of file.layers) {
    const layer = model.layers[entry.index];
    if (layer === undefined) throw new ModelFileError(`${dir}: layer index ${entry.index} (${entry.name}) does not exist in the module`);
    const ex = layer as unknown as LayerExtras;
    if (entry.quantState !== undefined && typeof ex.setQuantState === 'function') {
      const st: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(entry.quantState)) {
        st[k] = v !== null && typeof v === 'object' && 'tensor' in v ? unpack(buf, v.tensor) : v;
      }
      ex.setQuantState(st);
      for (const v of Object.values(st)) if (v instanceof tf.Tensor && !v.isDisposed) v.dispose();
    }
    if (entry.mask !== undefined && typeof ex.setWeightMask === 'function') {
      const saved = entry.mask;
      tf.tidy(() => { ex.setWeightMask?.(saved === null ? null : unpack(buf, saved)); });
    }
  }
  if (file.optimizer !== null && net.optimizer_ !== undefined && file.optimizer.className === net.optimizer_.getClassName()) {
    const named = file.optimizer.weights.map((e) => ({ name: e.name, tensor: unpack(buf, e) }));
    await net.optimizer_.setWeights(named);
    named.forEach((n) => n.tensor.dispose());
  }
  net.history = History.fromJSON(history);
}
