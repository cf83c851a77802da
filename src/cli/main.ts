import { createRequire } from 'node:module';
import { COMMANDS } from './commands/index.js';
import type { Deps } from '../deps.js';
import { SetopsError, UsageError, ValidationError, formatIssue } from '../errors.js';
import { fileSystemError } from '../state/fs-errors.js';
import { didYouMean } from '../schema/suggest.js';
import { parseCommandArgs } from './parse-argv.js';
import { renderErrorJson } from '../render/error-json.js';

const require = createRequire(import.meta.url);

/** `setopsd --version`. */
export function version(): string {
  return (require('../../package.json') as { version: string }).version;
}

function topHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'setopsd — GitOps reconciler for SetOps-style stages',
    '',
    'Usage: setopsd <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `setopsd help <command>` (or `setopsd <command> --help`) for the options of a command.',
    'Options: --help, --version',
    '',
  ].join('\n');
}

/**
 * Runs one command line and returns the exit code. The one place where errors become exit
 * codes: a SetopsError is the user's to fix (message, exit 1); anything else is a bug (stack).
 */
export async function main(argv: string[], deps: Deps, signal: AbortSignal): Promise<number> {
  const [name, ...rest] = argv;
  if (name === 'help' && rest.length > 0) return main([rest[0]!, '--help'], deps, signal);
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    deps.stdout.write(topHelp());
    return name === undefined ? 1 : 0;
  }
  if (name === '--version' || name === '-v') {
    deps.stdout.write(`setopsd ${version()}\n`);
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    deps.stderr.write(`setopsd: unknown command "${name}"${didYouMean(name, Object.keys(COMMANDS))}\n\n${topHelp()}`);
    return 1;
  }
  try {
    const command = await entry.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      deps.stdout.write(command.help.endsWith('\n') ? command.help : command.help + '\n');
      return 0;
    }
    return await command.run({ args: parseCommandArgs(command, rest), deps, signal });
  } catch (err) {
    return reportError(err, name, deps, wantsJson(rest));
  }
}

/**
 * Whether the command line asks for `--format json` (read from argv itself, so even an error in
 * parsing the other options comes back as JSON to a CI step that parses stdout).
 */
export function wantsJson(args: readonly string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--') break;
    if (args[i] === '--format=json' || (args[i] === '--format' && args[i + 1] === 'json')) return true;
  }
  return false;
}

/**
 * Prints an error for a person (stderr) and returns the exit code; with `json`, also the error
 * as JSON on stdout (`renderErrorJson`: code, message, every located issue).
 */
export function reportError(err: unknown, command: string, deps: Deps, json = false): number {
  if (json) {
    const known = err instanceof SetopsError ? err : fileSystemError(err, `setopsd ${command}`);
    deps.stdout.write(renderErrorJson(known ?? new SetopsError('unexpected error: this is a bug in setopsd; see stderr', { code: 'E_BUG' })));
  }
  if (err instanceof ValidationError) {
    for (const issue of err.issues) deps.stderr.write(formatIssue(issue) + '\n');
    deps.stderr.write(`error: ${err.message}\n`);
    return 1;
  }
  if (err instanceof UsageError) {
    deps.stderr.write(`error: ${err.message}\nRun \`setopsd ${command} --help\` for usage.\n`);
    return 1;
  }
  if (err instanceof SetopsError) {
    deps.stderr.write(`error: ${err.message}\n`);
    return 1;
  }
  const fsError = fileSystemError(err, `setopsd ${command}`);
  if (fsError !== null) {
    deps.stderr.write(`error: ${fsError.message}\n`);
    return 1;
  }
  const e = err as Error;
  deps.stderr.write(
    `setopsd: unexpected error — this is a bug in setopsd, please report it with the output below.\n${e?.stack ?? String(err)}\n`,
  );
  return 1;
}
