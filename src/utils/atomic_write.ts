/** Atomic file writes: a temp file in the same folder, then rename, so a user's file is never half-written. */
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { ModelFileError } from '../errors.js';

/**
 * Write `data` to `path` atomically (temp file in the same folder, then rename).
 * @throws ModelFileError naming the path when the write fails; the previous file, if any, is left intact.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    if (existsSync(tmp)) rmSync(tmp, { force: true });
    throw new ModelFileError(`cannot write ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
