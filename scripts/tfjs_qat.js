#!/usr/bin/env node
// The package's "bin". In a source checkout (scripts/cli.ts present) it runs the TypeScript through tsx's ESM API;
// in the published package (only dist/) it runs dist/scripts/cli.js.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, 'cli.ts');
let main;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(pathToFileURL(source).href));
} else {
  ({ main } = await import(pathToFileURL(join(here, '..', 'dist', 'scripts', 'cli.js')).href));
}
process.exitCode = await main(process.argv.slice(2));
