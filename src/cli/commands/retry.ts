import type { Command } from '../command.js';
import { UsageError } from '../../errors.js';
import { DAEMON_HELP, DAEMON_OPTION, callDaemon } from '../daemon-client.js';
import { STATE_DIR_HELP, STATE_DIR_OPTION } from '../state-dir.js';
import { stateDirWithoutSource } from '../stage-select.js';

const command: Command = {
  name: 'retry',
  summary: 'Have the daemon try a stalled or failed stage again',
  help: [
    'Usage: setopsd retry ORG/PROJECT/STAGE [DIR] [--daemon URL] [--state-dir DIR]',
    '',
    'A stage that failed 3 times on the same desired state is stalled: the daemon does not try it',
    'again until its desired state changes. retry tries it once more now.',
    '',
    'Options:',
    DAEMON_HELP,
    STATE_DIR_HELP,
  ].join('\n'),
  options: { ...STATE_DIR_OPTION, ...DAEMON_OPTION },
  async run(ctx) {
    const [stage, dir, ...extra] = ctx.args.positionals;
    if (stage === undefined || stage.split('/').length !== 3) throw new UsageError('retry needs ORG/PROJECT/STAGE, e.g. setopsd retry acme/shop/staging');
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    await callDaemon(ctx, stateDirWithoutSource(ctx, dir), 'POST', `/api/v1/stages/${stage}/retry`, {});
    ctx.deps.stdout.write(`${stage}: the daemon tries it again now\n`);
    return 0;
  },
};
export default command;
