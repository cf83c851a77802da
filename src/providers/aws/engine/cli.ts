/**
 * Finding the Pulumi CLI. The Automation API drives the `pulumi` executable; setopsd looks for
 * it on the PATH (of the injected environment) and where `PulumiCommand.install` or the
 * get.pulumi.com installer put it, and fails with a clear message when there is none.
 */
import { basename, dirname, join } from 'node:path';
import type { PulumiCommand } from '@pulumi/pulumi/automation/index.js';
import { EngineError } from '../../../errors.js';
import { findOnPath } from '../../executables.js';

/** The message of `E_PULUMI_CLI_MISSING`, naming what needed the CLI. */
export function cliMissingError(operation: string, cause?: unknown): EngineError {
  return new EngineError(
    `the Pulumi CLI is required for ${operation}; install it with \`curl -fsSL https://get.pulumi.com | sh\` ` +
      'or see https://www.pulumi.com/docs/install/ (or put it on PATH)',
    { code: 'E_PULUMI_CLI_MISSING', cause },
  );
}

/** The first `pulumi` executable on PATH, then in `~/.pulumi/bin`; null when there is none. */
export async function findPulumiExecutable(env: Record<string, string | undefined>): Promise<string | null> {
  return findOnPath('pulumi', env, env.HOME ? [join(env.HOME, '.pulumi', 'bin')] : []);
}

/**
 * A `PulumiCommand` for the CLI found by `findPulumiExecutable`. Installations in a `bin/`
 * directory are used through `PulumiCommand.get({ root })`, which also puts that directory
 * first on the CLI's PATH so its bundled plugins are found.
 */
export async function locatePulumiCommand(env: Record<string, string | undefined>, operation: string): Promise<PulumiCommand> {
  const exe = await findPulumiExecutable(env);
  if (!exe) throw cliMissingError(operation);
  const { PulumiCommand } = await import('@pulumi/pulumi/automation/index.js');
  const bin = dirname(exe);
  try {
    return basename(bin) === 'bin'
      ? await PulumiCommand.get({ root: dirname(bin), skipVersionCheck: env.PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK !== undefined })
      : await PulumiCommand.get({ skipVersionCheck: env.PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK !== undefined });
  } catch (err) {
    const text = String((err as Error).message ?? err);
    if (/ENOENT/.test(text)) throw cliMissingError(operation, err);
    // A CommandError's message is the whole result (`code: …, stdout: …, stderr: …`): use stderr.
    const stderr = (err as { commandResult?: { stderr?: string } }).commandResult?.stderr;
    const source = stderr && stderr.trim() ? stderr : text;
    const lines = source.split('\n').map((l) => l.trim());
    const firstLine =
      lines.find((l) => /^error:/i.test(l))?.replace(/^error:\s*/i, '') ??
      lines.find((l) => l && !/^(code|stdout|stderr|err\?):/.test(l)) ??
      'unknown error';
    throw new EngineError(`the Pulumi CLI at ${exe} cannot be used for ${operation}: ${firstLine.slice(0, 300)}`, {
      code: 'E_PULUMI_CLI',
      cause: err,
    });
  }
}
