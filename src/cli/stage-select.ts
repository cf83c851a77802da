import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { selectStages as selectStageKeys } from '../reconciler/stage-plan.js';
import { compareCodeUnits } from '../model/canonical.js';
import { stageKey, type StageRef } from '../model/stage-model.js';
import { JOURNAL_DIR, STATE_FILE, stageDir } from '../state/paths.js';
import { stageDirRefs } from '../state/stage-dirs.js';
import type { CommandContext } from './command.js';
import { resolveStateDir, userStateDir } from './state-dir.js';

/**
 * The state directory of a command that has no manifest source (status, history, logs, destroy):
 * `--state-dir DIR`; else `<DIR>/.setopsd` when a config directory is given; else `./.setopsd`
 * when it exists; else the per-user state directory (`$SETOPSD_STATE_DIR`, `$XDG_DATA_HOME/setopsd`,
 * `~/.local/share/setopsd`).
 */
export function stateDirWithoutSource(ctx: Pick<CommandContext, 'args' | 'deps'>, configDir: string | undefined): string {
  const flag = ctx.args.values['state-dir'];
  if (typeof flag === 'string' && flag !== '') return resolveStateDir(ctx, null);
  if (configDir !== undefined) return resolveStateDir(ctx, { root: resolve(ctx.deps.cwd, configDir) });
  const local = join(ctx.deps.cwd, '.setopsd');
  if (existsSync(local)) return local;
  return userStateDir(ctx.deps.env, ctx.deps.cwd);
}

/** Every stage with recorded state or a journal under the state directory, sorted by key. */
export async function knownStages(stateDir: string): Promise<StageRef[]> {
  const out = (await stageDirRefs(stateDir)).filter((ref) => {
    const dir = stageDir(stateDir, ref);
    return existsSync(join(dir, STATE_FILE)) || existsSync(join(dir, JOURNAL_DIR));
  });
  return out.sort((a, b) => compareCodeUnits(stageKey(a), stageKey(b)));
}

/**
 * Resolves `--stage` arguments against the known stages: `org/project/stage`, `project/stage`
 * or `stage` when that names exactly one (the same rules and messages as `setopsd plan`).
 * Returns the matches in the order of `known`.
 */
export function selectStages(patterns: string[], known: StageRef[]): StageRef[] {
  const keys = new Set(selectStageKeys(known.map(stageKey), patterns));
  return known.filter((r) => keys.has(stageKey(r)));
}

/** The values of a repeatable string option. */
export function stringList(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
}

/** Parses a non-negative integer option (seconds, lines), with a UsageError naming the option. */
export function intOption(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new UsageError(`--${name} must be a whole number ≥ 0, got "${String(value)}"`);
  }
  return n;
}
