/**
 * skorch-style parameter routing: `module__nWBits` goes to the module builder, `optimizer__beta1` to the
 * optimizer, `callbacks__earlyStopping__patience` to a callback. Unknown keys are errors that suggest the
 * nearest valid key ("did you mean module__nWBits?").
 */
import { ConfigError } from '../errors.js';

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
