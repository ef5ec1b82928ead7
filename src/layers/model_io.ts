/**
 * Save and load tfjs LayersModels in Node without tfjs-node: `model.json` + `weights.bin`, written atomically
 * (temp file, then rename). Quantizer state is saved because it is stored in layer weights.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { writeFileAtomic } from '../utils/atomic_write.js';
import { join } from 'node:path';
import { ModelFileError } from '../errors.js';
import './register.js';

export { writeFileAtomic };

function concat(buffers: ArrayBuffer | ArrayBuffer[]): Uint8Array {
  const list = Array.isArray(buffers) ? buffers : [buffers];
  const total = list.reduce((a, b) => a + b.byteLength, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const b of list) {
    out.set(new Uint8Array(b), off);
    off += b.byteLength;
  }
  return out;
}

/**
 * Save a model to `dir` (created if needed) as `model.json` + `weights.bin`.
 * @example await saveModel(model, 'out/my_model')
 */
export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const weights = concat(artifacts.weightData ?? new ArrayBuffer(0));
    const json = {
      format: artifacts.format ?? 'layers-model',
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy ?? null,
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      tfjsQat: { savedWith: 'tfjs-qat', weightsBytes: weights.byteLength },
    };
    writeFileAtomic(join(dir, 'weights.bin'), weights);
    writeFileAtomic(join(dir, 'model.json'), JSON.stringify(json));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
  }));
}

/** Read the artifacts written by `saveModel`. @throws ModelFileError for a missing or corrupt file. */
export function readModelArtifacts(dir: string): tf.io.ModelArtifacts {
  const jsonPath = join(dir, 'model.json');
  const binPath = join(dir, 'weights.bin');
  if (!existsSync(jsonPath)) throw new ModelFileError(`no model at '${dir}': ${jsonPath} does not exist; save one with saveModel(model, dir)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(jsonPath, 'utf8'));
  } catch (e) {
    throw new ModelFileError(`${jsonPath} is not valid JSON (${e instanceof Error ? e.message : String(e)}); the file is corrupt, save the model again`);
  }
  const obj = parsed as { modelTopology?: unknown; weightsManifest?: Array<{ weights?: tf.io.WeightsManifestEntry[] }> };
  if (typeof obj !== 'object' || obj === null || typeof obj.modelTopology !== 'object' || !Array.isArray(obj.weightsManifest)) {
    throw new ModelFileError(`${jsonPath} has no modelTopology/weightsManifest; it is not a model saved by saveModel`);
  }
  if (!existsSync(binPath)) throw new ModelFileError(`${binPath} is missing; the model folder '${dir}' is incomplete`);
  const bin = readFileSync(binPath);
  const specs = obj.weightsManifest.flatMap((g) => g.weights ?? []);
  const need = specs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1) * (s.dtype === 'int32' || s.dtype === 'float32' ? 4 : 1), 0);
  if (bin.byteLength !== need) {
    throw new ModelFileError(`${binPath} has ${bin.byteLength} bytes but model.json describes ${need}; the file is truncated or from another model`);
  }
  const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer;
  return { modelTopology: obj.modelTopology as tf.io.ModelArtifacts['modelTopology'], weightSpecs: specs, weightData, format: 'layers-model' };
}

/**
 * Load a model saved by `saveModel` (custom tfjs-qat layers included).
 * @throws ModelFileError for a missing or corrupt file.
 */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const artifacts = readModelArtifacts(dir);
  try {
    return await tf.loadLayersModel({ load: async () => artifacts });
  } catch (e) {
    throw new ModelFileError(`could not rebuild the model in '${dir}': ${e instanceof Error ? e.message : String(e)}`);
  }
}
