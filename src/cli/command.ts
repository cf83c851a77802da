import type { ParseArgsConfig } from 'node:util';
import type { Deps } from '../deps.js';

/** Parsed command line of one command. */
export interface ParsedArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

/** What a command receives: its arguments, the injected effects and the root cancellation signal. */
export interface CommandContext {
  args: ParsedArgs;
  deps: Deps;
  signal: AbortSignal;
}

/** One `setopsd` command. `run` returns the exit code; user errors are thrown as SetopsError. */
export interface Command {
  name: string;
  /** One line for `setopsd --help`. */
  summary: string;
  /** Full `setopsd NAME --help` text (usage line, options, exit codes). */
  help: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(ctx: CommandContext): Promise<number>;
}
