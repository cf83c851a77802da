import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import type { Command } from '../command.js';
import { redeployStage } from '../../operations/redeploy-stage.js';
import { STATE_DIR_HELP } from '../state-dir.js';
import { STAGE_OP_HELP, STAGE_OP_OPTIONS, reportStageOp, stageArgument, stageOpRequest } from '../stage-op.js';

const command: Command = {
  name: 'redeploy',
  summary: 'Restart the apps of a stage without changing its model',
  help: [
    'Usage: setopsd redeploy STAGE [APP] [--app APP …] [DIR] [--yes] [--secrets FILE] [--lock-timeout SECONDS]',
    '                        [--state-dir DIR]',
    '',
    'Starts new processes for the apps of the model the stage runs (blue/green: the old ones serve',
    'until the new ones are healthy), recorded as a deployment with trigger "redeploy". Secrets are',
    'resolved again, so a rotated value is picked up. A pinned stage stays pinned.',
    '',
    'Options:',
    '  APP, --app APP       Restart only this app (--app is repeatable). Default: every app with scale > 0.',
    STAGE_OP_HELP,
    STATE_DIR_HELP,
    '',
    'Exit codes: 0 redeployed, 1 refused, declined or failed (the old processes keep serving).',
  ].join('\n'),
  options: { ...STAGE_OP_OPTIONS, app: { type: 'string', multiple: true } },
  async run(ctx) {
    // After STAGE: an existing directory is DIR, anything else an app.
    const [stage, ...rest] = ctx.args.positionals;
    const dirArg = rest.find((p) => existsSync(resolve(ctx.deps.cwd, p)) && statSync(resolve(ctx.deps.cwd, p)).isDirectory());
    const positionalApps = rest.filter((p) => p !== dirArg);
    if (positionalApps.length > 1) throw new UsageError(`redeploy takes one APP positionally; give more with --app: ${positionalApps.join(' ')}`);
    const { ref, stateDir, dir } = await stageArgument({ ...ctx, args: { ...ctx.args, positionals: [stage ?? '', ...(dirArg ? [dirArg] : [])].filter(Boolean) } }, 'redeploy');
    const apps = [...positionalApps, ...((ctx.args.values.app as string[] | undefined) ?? []).filter((a) => typeof a === 'string')];
    const result = await redeployStage({ deps: ctx.deps, stateDir }, ref, apps, stageOpRequest(ctx, dir, 'redeploy'), ctx.signal);
    return reportStageOp(ctx, result, 'redeploy');
  },
};
export default command;
