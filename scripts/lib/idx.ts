/** IDX (MNIST) reader, optionally gzipped. */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataError } from '../../src/errors.js';

/** Read an IDX image (magic 2051) or label (2049) file. */
export function readIdx(path: string): { shape: number[]; data: Uint8Array } {
  let b = readFileSync(path);
  if (path.endsWith('.gz')) b = gunzipSync(b);
  const magic = b.readUInt32BE(0);
  const n = b.readUInt32BE(4);
  if (magic === 2051) {
    const r = b.readUInt32BE(8);
    const c = b.readUInt32BE(12);
    return { shape: [n, r, c], data: new Uint8Array(b.buffer, b.byteOffset + 16, n * r * c) };
  }
  if (magic === 2049) return { shape: [n], data: new Uint8Array(b.buffer, b.byteOffset + 8, n) };
  throw new DataError(`${path} is not an IDX file (magic ${magic})`);
}
