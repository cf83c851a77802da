import { resolve } from 'node:path';
import type { CommandContext } from './command.js';
import { UsageError } from '../errors.js';
import { stageKey, type StageRef } from '../model/stage-model.js';
import type { StageOpRequest, StageOpResult } from '../operations/stage-deployment.js';
import { renderApplyEvent, renderApplySummary } from '../render/progress.js';
import { renderText, useColor } from '../render/text.js';
import { readDaemonInfo } from '../daemon/instance.js';
import { callDaemon } from './daemon-client.js';
import { STATE_DIR_OPTION } from './state-dir.js';
import { intOption, knownStages, selectStages, stateDirWithoutSource } from './stage-select.js';

/**
 * What rollback, redeploy, pin and unpin share on the command line: `STAGE [DIR]`, the state
 * directory, approval (`--yes` or a terminal), secrets and the lock timeout.
 */

export const STAGE_OP_OPTIONS = {
  ...STATE_DIR_OPTION,
  yes: { type: 'boolean', short: 'y' },
  'allow-data-loss': { type: 'boolean' },
  secrets: { type: 'string' },
  'lock-timeout': { type: 'string' },
} as const;

export const STAGE_OP_HELP = [
  '  STAGE                ORG/PROJECT/STAGE, PROJECT/STAGE or STAGE.',
  '  DIR                  Config directory whose state to use (its DIR/.setopsd).',
  '  --yes, -y            Do not ask for confirmation (required without a terminal).',
  '  --allow-data-loss    Allow changes that destroy data (e.g. rolling back past a service creation).',
  '  --secrets FILE       Secrets file for `{secret: NAME}` values, as for apply.',
  '  --lock-timeout S     Wait up to S seconds for another command holding the stage (default 0).',
].join('\n');

/** The stage named by the first positional (resolved against the state directory), and the rest. */
export async function stageArgument(ctx: CommandContext, verb: string, maxExtra = 0): Promise<{ ref: StageRef; stateDir: string; dir: string | undefined; rest: string[] }> {
  const [stage, ...rest] = ctx.args.positionals;
  if (stage === undefined) throw new UsageError(`${verb} needs a STAGE, e.g. setopsd ${verb} shop/staging`);
  // Positionals after STAGE: the command's own (up to maxExtra), then DIR.
  const dir = rest.length > maxExtra ? rest.pop() : undefined;
  if (rest.length > maxExtra) throw new UsageError(`unexpected arguments: ${rest.slice(maxExtra).join(' ')}`);
  const stateDir = stateDirWithoutSource(ctx, dir);
  const [ref] = selectStages([stage], await knownStages(stateDir));
  return { ref: ref!, stateDir, dir, rest };
}

/** The review and approval settings of a stage operation from the command line. */
export function stageOpRequest(ctx: CommandContext, dir: string | undefined, verb: string): StageOpRequest {
  const { deps } = ctx;
  const v = ctx.args.values;
  const terminal = deps.prompt !== undefined && deps.isTTY.stdin;
  return {
    yes: v.yes === true,
    allowDataLoss: v['allow-data-loss'] === true,
    lockTimeoutMs: intOption('lock-timeout', v['lock-timeout'], 0) * 1000,
    ...(typeof v.secrets === 'string' ? { secretsFile: resolve(deps.cwd, v.secrets) } : {}),
    ...(dir !== undefined ? { configRoot: resolve(deps.cwd, dir) } : {}),
    ...(terminal
      ? {
          confirm: async (plan) => {
            const n = plan.changeset.changes.length;
            const what = n === 0 ? 'no model change' : `${n} change${n === 1 ? '' : 's'}`;
            return (await deps.prompt!(`${verb[0]!.toUpperCase()}${verb.slice(1)} ${plan.key} (${what})? Type "yes" to confirm: `, ctx.signal)).trim() === 'yes';
          },
        }
      : {}),
    onReview: (plan) => deps.stdout.write(renderText([plan], { color: useColor(deps) })),
    onEvent: (e) => deps.stdout.write(renderApplyEvent(e)),
  };
}

/** Prints the outcome of a stage operation; the exit code. */
export function reportStageOp(ctx: CommandContext, result: StageOpResult, verb: string): number {
  if (result.declined) {
    ctx.deps.stdout.write(`${verb}: canceled, nothing changed\n`);
    return 1;
  }
  ctx.deps.stdout.write(renderApplySummary([result.outcome], verb));
  return result.outcome.status === 'succeeded' ? 0 : 1;
}

/**
 * Tells a daemon running on this state directory to look at the stage now (after a pin changed);
 * without a daemon there is nothing to tell. Never fails the command.
 */
export async function nudgeDaemon(ctx: CommandContext, stateDir: string, ref: StageRef): Promise<void> {
  const info = await readDaemonInfo(stateDir).catch(() => null);
  if (info === null) return;
  try {
    await callDaemon({ ...ctx, args: { ...ctx.args, values: { ...ctx.args.values, daemon: undefined } } }, stateDir, 'POST', `/api/v1/stages/${stageKey(ref)}/retry`, {});
    ctx.deps.stdout.write(`the daemon at ${info.url} looks at ${stageKey(ref)} now\n`);
  } catch {
    ctx.deps.stdout.write(`the daemon at ${info.url} did not answer; it sees the change at its next reconcile of ${stageKey(ref)}\n`);
  }
}
