/**
 * skorch-style parameter routing: `module__nWBits` goes to the module builder, `optimizer__beta1` to the
 * optimizer, `callbacks__earlyStopping__patience` to a callback. Unknown keys are errors that suggest the
 * nearest valid key ("did you mean module__nWBits?").
 */
import { ConfigError } from '../errors.js';
import type { Callback } from './callback.js';
import { OPTIMIZER_OPTIONS } from './optimizers.js';

/** Levenshtein distance, case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const cur = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = cur;
  }
  return prev[t.length] ?? 0;
}

/** The candidate closest to `key` (ignoring case and `_`), or undefined when none is reasonably close. */
export function nearestKey(key: string, candidates: readonly string[]): string | undefined {
  const norm = (s: string): string => s.replace(/_/g, '').toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(norm(key), norm(c));
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= Math.max(3, Math.floor(key.length / 3)) ? best : undefined;
}

/**
 * The error for an unknown key, with a suggestion.
 * @example throw unknownKeyError('module__nWbit', ['module__nWBits'], 'setParams');
 */
export function unknownKeyError(key: string, valid: readonly string[], where: string): ConfigError {
  const hint = nearestKey(key, valid);
  const tail = hint !== undefined ? `; did you mean ${hint}?` : `; valid keys: ${valid.join(', ')}`;
  return new ConfigError(`${where}: unknown parameter '${key}'${tail}`);
}

/**
 * The params under `prefix__`, with the prefix removed (skorch `params_for`).
 * @example paramsFor({ module__nLayers: 3, lr: 0.1 }, 'module') // { nLayers: 3 }
 */
export function paramsFor(params: Readonly<Record<string, unknown>>, prefix: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const p = `${prefix}__`;
  for (const [k, v] of Object.entries(params)) if (k.startsWith(p)) out[k.slice(p.length)] = v;
  return out;
}

/** Copy of `obj` without undefined values (for exactOptionalPropertyTypes-friendly spreading). */
export function dropUndefined<T extends Record<string, unknown>>(obj: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** What `validateParamKey` checks keys against. */
export interface ParamSchema {
  /** Top-level option names. */
  readonly topKeys: readonly string[];
  /** `module__*` names the module declares (empty = any). */
  readonly moduleKeys: readonly string[];
  /** Names of the callbacks (lazy: only needed for `callbacks__name__param`). */
  readonly callbackNames: () => readonly string[];
}

/**
 * Check one `setParams` key against the schema.
 * @throws ConfigError for an unknown key (with the nearest valid key) or a misplaced value.
 */
export function validateParamKey(key: string, value: unknown, all: Readonly<Record<string, unknown>>, schema: ParamSchema): void {
  const parts = key.split('__');
  const head = parts[0] ?? '';
  if (parts.length === 1) {
    if (!schema.topKeys.includes(key)) throw unknownKeyError(key, [...schema.topKeys, ...schema.moduleKeys.map((k) => `module__${k}`)], 'setParams');
    return;
  }
  if (head === 'module') {
    const sub = parts.slice(1).join('__');
    if (sub === 'inputDim' || sub === 'nOutputs' || sub === 'inputShape') {
      throw new ConfigError(`setParams: module__${sub} is set from the data by fit; remove it`);
    }
    if (schema.moduleKeys.length > 0 && !schema.moduleKeys.includes(sub)) throw unknownKeyError(key, schema.moduleKeys.map((k) => `module__${k}`), 'setParams');
    return;
  }
  if (head === 'optimizer') {
    const opt = all['optimizer'] ?? 'adam';
    const valid = typeof opt === 'string' ? OPTIMIZER_OPTIONS[opt as keyof typeof OPTIMIZER_OPTIONS] : undefined;
    if (valid !== undefined && !valid.includes(parts[1] ?? '')) throw unknownKeyError(key, valid.map((v) => `optimizer__${v}`), 'setParams');
    return;
  }
  if (head === 'callbacks') {
    if (parts.length === 2) {
      if (value !== null && typeof value !== 'object') throw new ConfigError(`setParams: ${key} must be a callback or null (to remove it); got ${typeof value}`);
      return;
    }
    const names = schema.callbackNames();
    const cbName = parts[1] ?? '';
    if (!names.includes(cbName)) throw unknownKeyError(`callbacks__${cbName}`, names.map((n) => `callbacks__${n}`), 'setParams');
    return;
  }
  throw unknownKeyError(key, schema.topKeys, 'setParams');
}

/**
 * Apply `name__param` entries (from `callbacks__name__param`) to the named callbacks.
 * @throws ConfigError when a callback has no such parameter.
 */
export function applyCallbackParams(list: ReadonlyArray<readonly [string, Callback]>, params: Readonly<Record<string, unknown>>): void {
  for (const [key, value] of Object.entries(params)) {
    const [name, prop] = key.split('__') as [string, string | undefined];
    if (prop === undefined) continue;
    const cb = list.find(([n]) => n === name)?.[1];
    if (cb === undefined) continue;
    if (!(prop in cb)) {
      const hint = nearestKey(prop, Object.keys(cb));
      throw new ConfigError(`callbacks__${name}__${prop}: callback '${name}' has no parameter '${prop}'${hint !== undefined ? `; did you mean callbacks__${name}__${hint}?` : ''}`);
    }
    (cb as unknown as Record<string, unknown>)[prop] = value;
  }
}
