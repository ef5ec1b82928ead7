/** The shape of a CLI command file: a yargs command module whose handler may be async. */
import type { Argv, ArgumentsCamelCase } from 'yargs';

/** One `tfjs-qat <command>`: name/usage, description, option builder and handler. */
export interface CliCommand<A> {
  /** Usage, e.g. 'train'. */
  readonly command: string;
  readonly describe: string;
  builder(y: Argv): Argv<A>;
  handler(args: ArgumentsCamelCase<A>): Promise<void>;
}
