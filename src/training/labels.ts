/**
 * Class label handling for the classifier: learn the sorted class list, encode labels to indices,
 * reject a single class, mixed label types and labels unseen at fit time.
 */
import { DataError } from '../errors.js';

/** A class label: a number or a string. */
export type Label = number | string;

/**
 * The sorted distinct labels (numeric order for numbers, code-unit order for strings).
 * @throws DataError on mixed numbers/strings, non-label values, or fewer than two classes.
 */
export function learnClasses(labels: readonly unknown[], what = 'y'): Label[] {
  const set = new Set<Label>();
  let kind: 'number' | 'string' | undefined;
  labels.forEach((v, i) => {
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new DataError(`${what}[${i}] is ${v}; class labels must be finite numbers or strings`);
    } else if (typeof v !== 'string') {
      throw new DataError(`${what}[${i}] is ${JSON.stringify(v) ?? String(v)} (${typeof v}); class labels must be numbers or strings`);
    }
    const k = typeof v as 'number' | 'string';
    if (kind !== undefined && kind !== k) throw new DataError(`${what} mixes numbers and strings (e.g. ${what}[${i}] = ${JSON.stringify(v)}); use one label type`);
    kind = k;
    set.add(v);
  });
  const classes = [...set];
  if (kind === 'number') (classes as number[]).sort((a, b) => a - b);
  else (classes as string[]).sort();
  if (classes.length < 2) {
    throw new DataError(`${what} has a single class (${JSON.stringify(classes[0])}); a classifier needs at least two classes`);
  }
  return classes;
}

/**
 * Map labels to class indices.
 * @throws DataError naming the first label that is not in `classes`.
 */
export function encodeLabels(labels: readonly unknown[], classes: readonly Label[], what = 'y'): Int32Array {
  const index = new Map<unknown, number>(classes.map((c, i) => [c, i]));
  const out = new Int32Array(labels.length);
  labels.forEach((v, i) => {
    const k = index.get(v);
    if (k === undefined) {
      throw new DataError(`${what}[${i}] = ${JSON.stringify(v)} is not one of the classes seen during fit ` +
        `[${classes.map((c) => JSON.stringify(c)).join(', ')}]; refit with all classes or pass the 'classes' option`);
    }
    out[i] = k;
  });
  return out;
}
