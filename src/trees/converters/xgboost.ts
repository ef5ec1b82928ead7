/**
 * Converter from XGBoost's JSON model (`booster.save_model('model.json')`, XGBoost 1.x schema) to a {@link TreeEnsemble}.
 *
 * Supported: booster `gbtree`, numerical splits, objectives `binary:logistic`, `multi:softprob`, `multi:softmax`,
 * `reg:squarederror`. A node sends `x < split_condition` to the left (XGBoost compares in float32; thresholds are
 * stored as the exact float32 values). Leaf values are the leaves' `split_conditions` (already scaled by the
 * learning rate). `base_score` is added in margin space: `logit(base_score)` for binary:logistic, as is otherwise.
 * Missing values (NaN) are not supported: inputs must be finite.
 */
import { DataError, UnsupportedLayerError } from '../../errors.js';
import { createTreeEnsemble, type TreeEnsemble, type TreeParameters } from '../tree_ir.js';

/** Objectives {@link fromXgboostJson} converts. */
export const SUPPORTED_XGBOOST_OBJECTIVES = ['binary:logistic', 'multi:softprob', 'multi:softmax', 'reg:squarederror'] as const;

function rec(x: unknown, where: string): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new DataError(`XGBoost JSON: '${where}' must be an object, received ${JSON.stringify(x)?.slice(0, 60)}.`);
  return x as Record<string, unknown>;
}

function nums(x: unknown, where: string): number[] {
  if (!Array.isArray(x) || !x.every((v) => typeof v === 'number')) throw new DataError(`XGBoost JSON: '${where}' must be a number array.`);
  return x as number[];
}

function numParam(x: unknown, where: string): number {
  const v = typeof x === 'string' ? Number(x) : x;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new DataError(`XGBoost JSON: '${where}' must be a number, received ${JSON.stringify(x)}.`);
  return v;
}

/** True if `x` looks like an XGBoost JSON model (has `learner` and `version`). */
export function isXgboostJson(x: unknown): boolean {
  return typeof x === 'object' && x !== null && 'learner' in x && 'version' in x;
}

/**
 * Convert a parsed XGBoost JSON model.
 * @throws UnsupportedLayerError for another booster, objective or a categorical split; DataError for malformed JSON.
 * @example
 * const ensemble = fromXgboostJson(JSON.parse(fs.readFileSync('model.json', 'utf8')));
 */
export function fromXgboostJson(json: unknown): TreeEnsemble {
  const learner = rec(rec(json, '$')['learner'], 'learner');
  const booster = rec(learner['gradient_booster'], 'learner.gradient_booster');
  if (booster['name'] !== 'gbtree') {
    throw new UnsupportedLayerError(`XGBoost booster '${String(booster['name'])}' cannot be converted: only 'gbtree' is supported (dart scales trees at prediction time, gblinear has no trees).`);
  }
  const objective = String(rec(learner['objective'], 'learner.objective')['name']);
  if (!(SUPPORTED_XGBOOST_OBJECTIVES as readonly string[]).includes(objective)) {
    throw new UnsupportedLayerError(`XGBoost objective '${objective}' cannot be converted; supported: ${SUPPORTED_XGBOOST_OBJECTIVES.join(', ')}.`);
  }
  const params = rec(learner['learner_model_param'], 'learner.learner_model_param');
  const nFeatures = numParam(params['num_feature'], 'learner_model_param.num_feature');
  const numClass = numParam(params['num_class'] ?? '0', 'learner_model_param.num_class');
  const baseScoreRaw = numParam(params['base_score'], 'learner_model_param.base_score');
  const model = rec(booster['model'], 'gradient_booster.model');
  const rawTrees = model['trees'];
  if (!Array.isArray(rawTrees) || rawTrees.length === 0) throw new DataError(`XGBoost JSON: 'gradient_booster.model.trees' must be a non-empty array.`);
  const treeInfo = nums(model['tree_info'], 'gradient_booster.model.tree_info');
  const multi = objective.startsWith('multi:');
  const nClasses = multi ? numClass : objective === 'binary:logistic' ? 2 : 1;
  if (multi && (!Number.isInteger(nClasses) || nClasses < 2)) throw new DataError(`XGBoost JSON: ${objective} needs num_class >= 2, received ${nClasses}.`);
  const nOutputs = multi ? nClasses : 1;
  const trees: TreeParameters[] = rawTrees.map((t, ti) => {
    const tr = rec(t, `trees[${ti}]`);
    const lefts = nums(tr['left_children'], `trees[${ti}].left_children`);
    const rights = nums(tr['right_children'], `trees[${ti}].right_children`);
    const feats = nums(tr['split_indices'], `trees[${ti}].split_indices`);
    const conds = nums(tr['split_conditions'], `trees[${ti}].split_conditions`);
    const types = tr['split_type'] === undefined ? [] : nums(tr['split_type'], `trees[${ti}].split_type`);
    if (types.some((s) => s !== 0)) throw new UnsupportedLayerError(`XGBoost tree ${ti} has categorical splits (split_type 1); only numerical splits are supported.`);
    const out = multi ? (treeInfo[ti] ?? -1) : 0;
    if (!Number.isInteger(out) || out < 0 || out >= nOutputs) throw new DataError(`XGBoost JSON: tree_info[${ti}] = ${out} is not a class in [0, ${nOutputs - 1}].`);
    const values = lefts.map((l, i) => {
      const v = new Array<number>(nOutputs).fill(0);
      if (l === -1) v[out] = Math.fround(conds[i] ?? NaN);
      return v;
    });
    return {
      lefts, rights, features: feats.map((f, i) => (lefts[i] === -1 ? -1 : f)),
      thresholds: conds.map((c, i) => (lefts[i] === -1 ? 0 : Math.fround(c))), values,
    };
  });
  let base = baseScoreRaw;
  if (objective === 'binary:logistic') {
    if (!(baseScoreRaw > 0 && baseScoreRaw < 1)) throw new DataError(`XGBoost JSON: binary:logistic base_score must be in (0, 1), received ${baseScoreRaw}.`);
    base = -Math.log(1 / baseScoreRaw - 1);
  }
  return createTreeEnsemble({
    kind: nClasses === 1 ? 'regressor' : 'classifier', nFeatures, nClasses, nOutputs, aggregation: 'sum', splitRule: '<',
    baseScore: new Array<number>(nOutputs).fill(base), postTransform: objective === 'binary:logistic' ? 'sigmoid' : multi ? 'softmax' : 'none',
    trees, source: `xgboost ${objective}`,
  });
}
