import type { Command } from '../command.js';
import { pinStage } from '../../operations/pin-stage.js';
import { describePin } from '../../state/pin.js';
import { STATE_DIR_HELP, STATE_DIR_OPTION } from '../state-dir.js';
import { intOption } from '../stage-select.js';
import { nudgeDaemon, stageArgument } from '../stage-op.js';

const command: Command = {
  name: 'pin',
  summary: 'Keep a stage where it is: the branch is planned, not applied',
  help: [
    'Usage: setopsd pin STAGE [DIR] [--at N] [--lock-timeout SECONDS] [--state-dir DIR]',
    '',
    'Pins the stage at the deployment it runs: `setopsd apply` and the daemon plan the branch for',
    'it but do not apply it until `setopsd unpin STAGE`. Nothing is deployed. To go back to an',
    'earlier deployment and pin there, use `setopsd rollback STAGE --to N`.',
    '',
    'Options:',
    '  --at N               The deployment to pin at; it must be the one whose model the stage runs',
    '                       (default: the newest succeeded deployment).',
    '  --lock-timeout S     Wait up to S seconds for another command holding the stage (default 0).',
    STATE_DIR_HELP,
    '',
    'Exit codes: 0 pinned, 1 refused.',
  ].join('\n'),
  options: { ...STATE_DIR_OPTION, at: { type: 'string' }, 'lock-timeout': { type: 'string' } },
  async run(ctx) {
    const { ref, stateDir } = await stageArgument(ctx, 'pin');
    const at = ctx.args.values.at === undefined ? undefined : intOption('at', ctx.args.values.at, 0);
    const lockTimeoutMs = intOption('lock-timeout', ctx.args.values['lock-timeout'], 0) * 1000;
    const pin = await pinStage({ deps: ctx.deps, stateDir }, ref, { ...(at !== undefined ? { at } : {}), lockTimeoutMs }, ctx.signal);
    ctx.deps.stdout.write(`${pin.stage}: ${describePin(pin, null)}\n`);
    await nudgeDaemon(ctx, stateDir, ref);
    return 0;
  },
};
export default command;
