/**
 * The `tfjs-qat` command line. Commands come from the explicit COMMANDS list below: adding a command is one
 * import plus one entry. Bad input (QatError: bad CSV, bad option) prints the message and exits with code 2.
 */
import yargs, { type Argv, type ArgumentsCamelCase } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { useBackend } from '../src/backend/use_backend.js';
import { QatError } from '../src/errors.js';
import type { CliCommand } from './commands/command.js';
import { trainCommand } from './commands/train.js';
import { exportCommand } from './commands/export.js';
import { simulateCommand } from './commands/simulate.js';

/** Every command, in help order. */
export const COMMANDS = [
  trainCommand,
  exportCommand,
  simulateCommand,
] as const;

/** Register one command on the yargs instance (generic, so each command keeps its own argument type). */
function addCommand<A>(cli: Argv, c: CliCommand<A>): Argv {
  return cli.command({ command: c.command, describe: c.describe, builder: (y: Argv) => c.builder(y), handler: async (a) => { await c.handler(a as ArgumentsCamelCase<A>); } });
}

/** A command-line usage problem (unknown option, missing argument); the message includes the help text. */
class UsageError extends Error {
  override name = 'UsageError';
}

/** Exit code for bad input (bad CSV, bad option value, unknown option). */
export const EXIT_BAD_INPUT = 2;

/**
 * Parse `argv` and run the command. Resolves to the process exit code.
 * @example process.exitCode = await main(process.argv.slice(2));
 */
export async function main(argv: readonly string[]): Promise<number> {
  let cli: Argv = yargs([...argv]).scriptName('tfjs-qat').strict().demandCommand(1, 'name a command (see --help)')
    .middleware(async () => { await useBackend('auto', { quiet: true }); })
    .fail((msg: string | undefined, err: Error | undefined, y: Argv) => {
      if (err !== undefined) throw err;
      throw new UsageError(`${y.help().toString()}\n\nerror: ${msg ?? 'bad arguments'}`);
    })
    .help().version(false);
  for (const c of COMMANDS) cli = addCommand(cli, c as CliCommand<unknown>);
  try {
    await cli.parseAsync();
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n`);
      return EXIT_BAD_INPUT;
    }
    if (e instanceof QatError) {
      process.stderr.write(`error: ${e.message}\n`);
      return EXIT_BAD_INPUT;
    }
    throw e;
  }
  return 0;
}

// No top-level await here: tests import this module, and a top-level await would make Node load it (and a second
// copy of every src module it imports) as ESM beside the CommonJS copy, breaking instanceof and class registries.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  void main(hideBin(process.argv)).then((code) => { process.exitCode = code; });
}
