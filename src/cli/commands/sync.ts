import type { Command } from '../command.js';
import { UsageError } from '../../errors.js';
import { DAEMON_HELP, DAEMON_OPTION, callDaemon } from '../daemon-client.js';
import { STATE_DIR_HELP, STATE_DIR_OPTION } from '../state-dir.js';
import { stateDirWithoutSource } from '../stage-select.js';

const command: Command = {
  name: 'sync',
  summary: 'Have the daemon read its source now',
  help: ['Usage: setopsd sync [DIR] [--daemon URL] [--state-dir DIR]', '', 'Options:', DAEMON_HELP, STATE_DIR_HELP].join('\n'),
  options: { ...STATE_DIR_OPTION, ...DAEMON_OPTION },
  async run(ctx) {
    if (ctx.args.positionals.length > 1) throw new UsageError(`unexpected arguments: ${ctx.args.positionals.slice(1).join(' ')}`);
    await callDaemon(ctx, stateDirWithoutSource(ctx, ctx.args.positionals[0]), 'POST', '/api/v1/sync', {});
    ctx.deps.stdout.write('the daemon read its source\n');
    return 0;
  },
};
export default command;
