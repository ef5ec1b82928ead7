/** Feature standardization with statistics from the training rows (population std; a std of 0 becomes 1). */

/** Per-feature mean and std. */
export interface Standardizer {
  readonly mean: number[];
  readonly std: number[];
}

/**
 * Fit on `rows` (the training rows only).
 * @example const s = fitStandardizer(Xtrain); const Z = applyStandardizer(s, Xtest);
 */
export function fitStandardizer(rows: readonly (readonly number[])[]): Standardizer {
  const d = rows[0]?.length ?? 0;
  const mean = new Array<number>(d).fill(0);
  const std = new Array<number>(d).fill(0);
  for (const r of rows) r.forEach((v, j) => { mean[j] = (mean[j] ?? 0) + v; });
  for (let j = 0; j < d; j++) mean[j] = (mean[j] ?? 0) / rows.length;
  for (const r of rows) r.forEach((v, j) => { std[j] = (std[j] ?? 0) + (v - (mean[j] ?? 0)) ** 2; });
  for (let j = 0; j < d; j++) {
    const s = Math.sqrt((std[j] ?? 0) / rows.length);
    std[j] = s > 0 ? s : 1;
  }
  return { mean, std };
}

/** (x - mean) / std per feature. */
export function applyStandardizer(s: Standardizer, rows: readonly (readonly number[])[]): number[][] {
  return rows.map((r) => r.map((v, j) => (v - (s.mean[j] ?? 0)) / (s.std[j] ?? 1)));
}
