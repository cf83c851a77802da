import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { closest } from '../schema/suggest.js';
import type { Command, ParsedArgs } from './command.js';

/**
 * Parses a command's arguments (strict: unknown options are errors). Node's parseArgs messages
 * become short ones in setopsd's words, with the option meant when a flag is misspelt:
 * `unknown option --stag; did you mean --stage?`.
 */
export function parseCommandArgs(command: Pick<Command, 'name' | 'options'>, args: string[]): ParsedArgs {
  try {
    return parseArgs({ args, options: command.options, allowPositionals: true, strict: true }) as ParsedArgs;
  } catch (err) {
    throw new UsageError(argvMessage(err as Error & { code?: string }, command));
  }
}

function argvMessage(err: Error & { code?: string }, command: Pick<Command, 'name' | 'options'>): string {
  const quoted = /'([^']+)'/.exec(err.message)?.[1];
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && quoted !== undefined) {
    const flags = [...Object.keys(command.options).map((n) => `--${n}`), '--help'];
    const written = quoted.split('=')[0]!;
    const meant = written.startsWith('--') ? closest(written, flags) : undefined;
    const known = meant ? `; did you mean ${meant}?` : `; ${command.name} takes ${flags.join(', ')}`;
    return `unknown option ${written}${known}`;
  }
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && quoted !== undefined) {
    const flag = quoted.split(/[ ,]/).filter((p) => p.startsWith('--'))[0] ?? quoted;
    return /argument missing/.test(err.message) ? `option ${flag} needs a value: ${flag} VALUE` : `option ${flag} takes no value`;
  }
  if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return `${command.name} takes no argument ${quoted ?? ''}`.trim();
  return err.message;
}
