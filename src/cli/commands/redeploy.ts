import type { Command } from '../command.js';
import { redeployStage } from '../../operations/redeploy-stage.js';
import { STATE_DIR_HELP } from '../state-dir.js';
import { STAGE_OP_HELP, STAGE_OP_OPTIONS, reportStageOp, stageArgument, stageOpRequest } from '../stage-op.js';

const command: Command = {
  name: 'redeploy',
  summary: 'Restart the apps of a stage without changing its model',
  help: [
    'Usage: setopsd redeploy STAGE [--app APP …] [DIR] [--yes] [--secrets FILE] [--lock-timeout SECONDS]',
    '                        [--state-dir DIR]',
    '',
    'Starts new processes for the apps of the model the stage runs (blue/green: the old ones serve',
    'until the new ones are healthy), recorded as a deployment with trigger "redeploy". Secrets are',
    'resolved again, so a rotated value is picked up. A pinned stage stays pinned.',
    '',
    'Options:',
    '  --app APP            Restart only this app; repeatable. Default: every app with scale > 0.',
    STAGE_OP_HELP,
    STATE_DIR_HELP,
    '',
    'Exit codes: 0 redeployed, 1 refused, declined or failed (the old processes keep serving).',
  ].join('\n'),
  options: { ...STAGE_OP_OPTIONS, app: { type: 'string', multiple: true } },
  async run(ctx) {
    const { ref, stateDir, dir } = await stageArgument(ctx, 'redeploy');
    const apps = ((ctx.args.values.app as string[] | undefined) ?? []).filter((a) => typeof a === 'string');
    const result = await redeployStage({ deps: ctx.deps, stateDir }, ref, apps, stageOpRequest(ctx, dir, 'redeploy'), ctx.signal);
    return reportStageOp(ctx, result, 'redeploy');
  },
};
export default command;
