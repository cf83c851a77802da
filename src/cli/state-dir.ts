import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { CommandContext } from './command.js';
import type { SourceFiles } from '../manifests/api.js';

/** Where a command's source came from, as far as the state directory cares. */
export type StateDirSource = Pick<SourceFiles, 'root'> & Partial<Pick<SourceFiles, 'commit' | 'ref'>>;

/** The `--state-dir` option spec, shared by every command that reads or writes stage state. */
export const STATE_DIR_OPTION = { 'state-dir': { type: 'string' } } as const;

/** `--help` text for `--state-dir`, shared by plan, apply, status and the other stage commands. */
export const STATE_DIR_HELP = [
  '  --state-dir DIR      Where recorded stage state, journals and logs live. Default: for a',
  '                       directory source, DIR/.setopsd under the config directory; for --repo',
  '                       sources (and plan files), $SETOPSD_STATE_DIR, else $XDG_DATA_HOME/setopsd,',
  '                       else ~/.local/share/setopsd.',
].join('\n');

/**
 * The state directory of a command:
 * 1. `--state-dir DIR` (relative to the working directory);
 * 2. a directory source (no commit): `<config dir>/.setopsd`;
 * 3. a git source or none: `$SETOPSD_STATE_DIR`, else `$XDG_DATA_HOME/setopsd`, else `~/.local/share/setopsd`.
 * Environment comes from `deps.env`, never `process.env`.
 */
export function resolveStateDir(ctx: Pick<CommandContext, 'args' | 'deps'>, source: StateDirSource | null): string {
  const { deps } = ctx;
  const flag = ctx.args.values['state-dir'];
  if (typeof flag === 'string' && flag !== '') return resolve(deps.cwd, flag);
  if (source !== null && source.commit === undefined) return join(source.root, '.setopsd');
  return userStateDir(deps.env, deps.cwd);
}

/** The per-user state directory for git sources: `$SETOPSD_STATE_DIR`, `$XDG_DATA_HOME/setopsd` or `~/.local/share/setopsd`. */
export function userStateDir(env: Record<string, string | undefined>, cwd: string): string {
  const explicit = env.SETOPSD_STATE_DIR;
  if (explicit) return resolve(cwd, explicit);
  const xdg = env.XDG_DATA_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'setopsd');
  return join(env.HOME || homedir(), '.local', 'share', 'setopsd');
}
