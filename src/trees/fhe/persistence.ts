/**
 * Persistence of the FHE tree estimators: one JSON file `DIR/tree_model.json` (written atomically) with the
 * estimator name, its parameters, the class labels, the feature quantizer, the float ensemble trained on the
 * integer features and the integer ensemble. The circuit is not stored: `compile()` rebuilds it exactly.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../utils/atomic_write.js';
import { join } from 'node:path';
import { ModelFileError } from '../../errors.js';
import { createTreeEnsemble, type TreeEnsemble, type TreeEnsembleSpec } from '../tree_ir.js';
import { FeatureQuantizer, type FeatureQuantizerJson } from './feature_quantizer.js';
import type { QuantizedTreeEnsemble } from './quantize_trees.js';

/** File name of a saved tree estimator inside its folder. */
export const TREE_MODEL_FILE = 'tree_model.json';
/** Tag of the file. */
export const TREE_MODEL_FORMAT = 'tfjs-qat-fhe-trees';
/** Version written by this library; readers refuse newer versions. */
export const TREE_MODEL_VERSION = 1;

/** The JSON document of a saved estimator. */
export interface TreeModelJson {
  format: typeof TREE_MODEL_FORMAT;
  formatVersion: number;
  /** Class name, e.g. 'RandomForestClassifier'. */
  estimator: string;
  kind: 'classifier' | 'regressor';
  /** Constructor options (resolved), including forest/boosting options. */
  params: Record<string, number>;
  classes: number[] | null;
  quantizer: FeatureQuantizerJson;
  ensemble: TreeEnsembleSpec;
  quantized: { ensemble: TreeEnsembleSpec; inputBits: number; leafBits: number; leafScale: number };
}

/** Restored fitted state. */
export interface TreeModelState {
  params: Record<string, number>;
  classes: number[] | null;
  quantizer: FeatureQuantizer;
  ensemble: TreeEnsemble;
  quantized: QuantizedTreeEnsemble;
}

/** Save a document to `dir/tree_model.json` (creating `dir`). */
export function writeTreeModel(dir: string, doc: TreeModelJson): string {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new ModelFileError(`cannot create the folder ${dir}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const path = join(dir, TREE_MODEL_FILE);
  writeFileAtomic(path, JSON.stringify(doc));
  return path;
}

/** True when `dir` holds a saved tree estimator. */
export function isTreeModelDir(dir: string): boolean {
  return existsSync(join(dir, TREE_MODEL_FILE));
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * Read and validate `dir/tree_model.json`.
 * @param expected class name the caller restores into (null: any).
 * @throws ModelFileError for a missing or malformed file, a newer version or another estimator class.
 */
export function readTreeModel(dir: string, expected: string | null): { doc: TreeModelJson; state: TreeModelState } {
  const path = join(dir, TREE_MODEL_FILE);
  if (!existsSync(path)) throw new ModelFileError(`no tree model in '${dir}': expected ${path} (written by save(dir) or 'tfjs-qat train --model tree|forest|boosting').`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ModelFileError(`${path} is not valid JSON (${e instanceof Error ? e.message : String(e)}); save the model again.`);
  }
  if (!isRecord(raw) || raw['format'] !== TREE_MODEL_FORMAT) throw new ModelFileError(`${path} is not a tfjs-qat tree model (format must be '${TREE_MODEL_FORMAT}').`);
  const v = raw['formatVersion'];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ModelFileError(`${path}: formatVersion must be a positive integer, received ${JSON.stringify(v)}.`);
  if (v > TREE_MODEL_VERSION) throw new ModelFileError(`${path}: formatVersion ${v} is newer than this library reads (${TREE_MODEL_VERSION}); upgrade tfjs-qat.`);
  const doc = raw as unknown as TreeModelJson;
  if (typeof doc.estimator !== 'string') throw new ModelFileError(`${path}: 'estimator' must be a class name.`);
  if (expected !== null && doc.estimator !== expected) throw new ModelFileError(`${path} holds a ${doc.estimator}, not a ${expected}; use ${doc.estimator}.load or loadTreeEstimator.`);
  if (!isRecord(doc.params) || !isRecord(doc.quantizer) || !isRecord(doc.ensemble) || !isRecord(doc.quantized)) {
    throw new ModelFileError(`${path}: params, quantizer, ensemble and quantized must be objects; the file is damaged.`);
  }
  try {
    const q = doc.quantized;
    if (![q.inputBits, q.leafBits].every((b) => Number.isInteger(b) && b >= 1 && b <= 16) || !(q.leafScale > 0)) {
      throw new ModelFileError('quantized.inputBits/leafBits must be integers in [1, 16] and leafScale positive');
    }
    if (doc.classes !== null && (!Array.isArray(doc.classes) || !doc.classes.every((c) => Number.isFinite(c)))) throw new ModelFileError('classes must be null or numbers');
    const state: TreeModelState = {
      params: doc.params,
      classes: doc.classes === null ? null : [...doc.classes],
      quantizer: new FeatureQuantizer(doc.quantizer),
      ensemble: createTreeEnsemble(doc.ensemble),
      quantized: { ensemble: createTreeEnsemble(q.ensemble), inputBits: q.inputBits, leafBits: q.leafBits, leafScale: q.leafScale },
    };
    if (state.quantizer.nFeatures !== state.quantized.ensemble.nFeatures) throw new ModelFileError(`the quantizer has ${state.quantizer.nFeatures} features but the trees ${state.quantized.ensemble.nFeatures}`);
    return { doc, state };
  } catch (e) {
    throw new ModelFileError(`${path} is damaged: ${e instanceof Error ? e.message : String(e)}.`);
  }
}
