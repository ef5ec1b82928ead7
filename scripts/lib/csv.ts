/**
 * Minimal CSV reading for the CLI: a header line, comma-separated values, optional double quotes.
 * Features must be numeric; the target may be numbers or strings. Every problem is a DataError with the line number.
 */
import { readFileSync } from 'node:fs';
import { DataError } from '../../src/errors.js';

/** A parsed table: header names and raw string cells. */
export interface CsvTable {
  readonly header: string[];
  readonly rows: string[][];
}

/** A dataset split into a numeric feature matrix and a target column. */
export interface CsvDataset {
  readonly featureNames: string[];
  readonly targetName: string;
  readonly X: number[][];
  /** Numbers when every target cell is numeric, else strings. */
  readonly y: number[] | string[];
}

function splitLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',').map((c) => c.trim());
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (ch === '"') quoted = false; else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { out.push(cur.trim()); cur = ''; } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

/**
 * Parse CSV text.
 * @throws DataError on an empty file, an empty header name or a ragged row.
 */
export function parseCsv(text: string, source = 'CSV'): CsvTable {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  while (lines.length > 0 && (lines[lines.length - 1] ?? '').trim() === '') lines.pop();
  if (lines.length === 0) throw new DataError(`${source} is empty; expected a header line and data rows`);
  const header = splitLine(lines[0] ?? '');
  header.forEach((h, i) => { if (h === '') throw new DataError(`${source}: header column ${i + 1} has no name`); });
  const rows: string[][] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trim() === '') continue;
    const cells = splitLine(line);
    if (cells.length !== header.length) {
      throw new DataError(`${source} line ${i + 1}: ${cells.length} values but the header has ${header.length} columns; every row needs one value per column`);
    }
    rows.push(cells);
  }
  if (rows.length === 0) throw new DataError(`${source} has a header but no data rows`);
  return { header, rows };
}

/** Read and parse a CSV file. @throws DataError when the file cannot be read. */
export function readCsv(path: string): CsvTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DataError(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return parseCsv(text, path);
}

/**
 * Split a table into numeric features and the target column (default: the last column).
 * @throws DataError on a missing target column or a non-numeric feature cell (naming line and column).
 */
export function toDataset(table: CsvTable, target?: string, source = 'CSV'): CsvDataset {
  const ti = target === undefined ? table.header.length - 1 : table.header.indexOf(target);
  if (ti < 0) throw new DataError(`${source}: target column '${String(target)}' not found; columns are ${table.header.join(', ')}`);
  if (table.header.length < 2) throw new DataError(`${source}: needs at least one feature column besides the target`);
  const featureNames = table.header.filter((_, i) => i !== ti);
  const X = table.rows.map((r, li) => r.flatMap((cell, j) => {
    if (j === ti) return [];
    const v = cell === '' ? NaN : Number(cell);
    if (!Number.isFinite(v)) {
      throw new DataError(`${source} line ${li + 2}, column '${table.header[j] ?? j}': '${cell}' is not a finite number; features must be numeric (encode categories and fill missing values first)`);
    }
    return [v];
  }));
  const raw = table.rows.map((r) => r[ti] ?? '');
  const numeric = raw.every((c) => c !== '' && Number.isFinite(Number(c)));
  raw.forEach((c, i) => { if (c === '') throw new DataError(`${source} line ${i + 2}: the target '${table.header[ti] ?? ''}' is empty`); });
  return { featureNames, targetName: table.header[ti] ?? '', X, y: numeric ? raw.map(Number) : raw };
}

/**
 * Infer the task: strings -> classification; integers with at most 20 distinct values (and fewer than half the
 * rows) -> classification; otherwise regression.
 */
export function inferTask(y: readonly (number | string)[]): 'classification' | 'regression' {
  if (y.some((v) => typeof v === 'string')) return 'classification';
  const distinct = new Set(y);
  const ints = y.every((v) => Number.isInteger(v));
  return ints && distinct.size <= 20 && distinct.size < y.length / 2 ? 'classification' : 'regression';
}
