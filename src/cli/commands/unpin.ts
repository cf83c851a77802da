import type { Command } from '../command.js';
import { stageKey } from '../../model/stage-model.js';
import { unpinStage } from '../../operations/pin-stage.js';
import { STATE_DIR_HELP, STATE_DIR_OPTION } from '../state-dir.js';
import { intOption } from '../stage-select.js';
import { nudgeDaemon, stageArgument } from '../stage-op.js';

const command: Command = {
  name: 'unpin',
  summary: 'Let the branch apply to a pinned stage again',
  help: [
    'Usage: setopsd unpin STAGE [DIR] [--lock-timeout SECONDS] [--state-dir DIR]',
    '',
    'Removes the pin that `setopsd rollback` or `setopsd pin` set. The next `setopsd apply` applies',
    'the branch to the stage; a running daemon does so at once.',
    '',
    'Options:',
    '  --lock-timeout S     Wait up to S seconds for another command holding the stage (default 0).',
    STATE_DIR_HELP,
    '',
    'Exit codes: 0 unpinned (or was not pinned), 1 error.',
  ].join('\n'),
  options: { ...STATE_DIR_OPTION, 'lock-timeout': { type: 'string' } },
  async run(ctx) {
    const { ref, stateDir } = await stageArgument(ctx, 'unpin');
    const lockTimeoutMs = intOption('lock-timeout', ctx.args.values['lock-timeout'], 0) * 1000;
    const pin = await unpinStage({ deps: ctx.deps, stateDir }, ref, { lockTimeoutMs }, ctx.signal);
    ctx.deps.stdout.write(pin === null ? `${stageKey(ref)} was not pinned\n` : `${stageKey(ref)}: unpinned (was pinned at #${pin.deployment}); the branch applies again\n`);
    if (pin !== null) await nudgeDaemon(ctx, stateDir, ref);
    return 0;
  },
};
export default command;
