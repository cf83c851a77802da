import type { Command } from '../command.js';
import { UsageError } from '../../errors.js';
import { DAEMON_HELP, DAEMON_OPTION, callDaemon } from '../daemon-client.js';
import { STATE_DIR_HELP, STATE_DIR_OPTION } from '../state-dir.js';
import { stateDirWithoutSource } from '../stage-select.js';

const command: Command = {
  name: 'approve',
  summary: "Approve the plan a daemon holds for a stage",
  help: [
    'Usage: setopsd approve ORG/PROJECT/STAGE [DIR] [--plan ID] [--daemon URL] [--state-dir DIR]',
    '',
    'Applies exactly the plan the daemon holds for the stage (approval: manual, or a plan that loses',
    'data). With --plan, only when that is still the waiting plan: a newer desired state replaces a',
    'pending plan, and an approval does not carry over to it.',
    '',
    'Options:',
    '  --plan ID            The plan id shown by `setopsd status`, the API or the page.',
    DAEMON_HELP,
    STATE_DIR_HELP,
    '',
    'Exit codes: 0 approved, 1 nothing waits, another plan waits, or no daemon.',
  ].join('\n'),
  options: { ...STATE_DIR_OPTION, ...DAEMON_OPTION, plan: { type: 'string' } },
  async run(ctx) {
    const [stage, dir, ...extra] = ctx.args.positionals;
    if (stage === undefined || stage.split('/').length !== 3) throw new UsageError('approve needs ORG/PROJECT/STAGE, e.g. setopsd approve acme/shop/production');
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    const plan = typeof ctx.args.values.plan === 'string' ? ctx.args.values.plan : undefined;
    const out = (await callDaemon(ctx, stateDirWithoutSource(ctx, dir), 'POST', `/api/v1/stages/${stage}/approve`, plan ? { plan } : {})) as { approved?: string } | null;
    ctx.deps.stdout.write(`${stage}: plan ${out?.approved ?? plan ?? ''} approved; the daemon applies it now\n`);
    return 0;
  },
};
export default command;
