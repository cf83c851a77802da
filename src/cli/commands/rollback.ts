import type { Command } from '../command.js';
import { rollbackStage } from '../../operations/rollback-stage.js';
import { STATE_DIR_HELP } from '../state-dir.js';
import { intOption } from '../stage-select.js';
import { STAGE_OP_HELP, STAGE_OP_OPTIONS, nudgeDaemon, reportStageOp, stageArgument, stageOpRequest } from '../stage-op.js';

const command: Command = {
  name: 'rollback',
  summary: 'Re-apply the model of an earlier deployment and pin the stage there',
  help: [
    'Usage: setopsd rollback STAGE [DIR] [--to N] [--yes] [--allow-data-loss] [--secrets FILE]',
    '                        [--lock-timeout SECONDS] [--state-dir DIR]',
    '',
    'Re-applies exactly the model recorded with deployment N (default: the newest succeeded',
    'deployment before the current one with a different model) as a new deployment with trigger',
    '"rollback". The plan is shown first, as for apply; a rollback that deletes a service created',
    'since then loses data and needs --allow-data-loss. Nothing is rebuilt: the stored model is',
    'deployed as it was.',
    '',
    'Afterwards the stage is pinned: `setopsd apply` and the daemon plan the branch for it but do',
    'not apply it until `setopsd unpin STAGE`. status and plan say "pinned at #N".',
    '',
    'Options:',
    '  --to N               The deployment to return to (setopsd history STAGE lists them).',
    STAGE_OP_HELP,
    STATE_DIR_HELP,
    '',
    'Exit codes: 0 rolled back, 1 refused, declined or failed (the stage keeps what it ran).',
  ].join('\n'),
  options: { ...STAGE_OP_OPTIONS, to: { type: 'string' } },
  async run(ctx) {
    const { ref, stateDir, dir } = await stageArgument(ctx, 'rollback');
    const to = ctx.args.values.to === undefined ? undefined : intOption('to', ctx.args.values.to, 0);
    const result = await rollbackStage({ deps: ctx.deps, stateDir }, ref, to === undefined ? {} : { to }, stageOpRequest(ctx, dir, 'roll back'), ctx.signal);
    const code = reportStageOp(ctx, result, 'rollback');
    if (code === 0) {
      ctx.deps.stdout.write(`${result.plan.key} is pinned at the rollback of #${result.target.number}; \`setopsd unpin ${result.plan.key}\` lets the branch apply again\n`);
      await nudgeDaemon(ctx, stateDir, ref);
    }
    return code;
  },
};
export default command;
