// Capture what a function writes to stdout/stderr (CLI tests).
/** Run fn with process.stdout/stderr captured; restores them afterwards. */
export function capture<T>(fn: () => Promise<T>): Promise<{ value: T; out: string; err: string }> {
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  let out = '';
  let err = '';
  process.stdout.write = ((s: string) => { out += s; return true; }) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => { err += s; return true; }) as typeof process.stderr.write;
  return fn().then((value) => ({ value, out, err })).finally(() => { process.stdout.write = o; process.stderr.write = e; });
}
