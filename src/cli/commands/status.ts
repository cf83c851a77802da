import type { Command } from '../command.js';
import { UsageError } from '../../errors.js';
import { stageStatus } from '../../operations/stage-status.js';
import { renderStatusJson, renderStatusText, type StageStatusReport } from '../../render/status.js';
import { STATE_DIR_HELP, STATE_DIR_OPTION } from '../state-dir.js';
import { knownStages, selectStages, stateDirWithoutSource, stringList } from '../stage-select.js';
import { parseTextOrJson } from '../../render/formats.js';

const command: Command = {
  name: 'status',
  summary: 'Show the deployed stages, their apps and services',
  help: [
    'Usage: setopsd status [DIR] [--stage STAGE …] [--format text|json] [--state-dir DIR]',
    '',
    'Per stage: the last deployment (number, status, commit, time), the apps with their processes,',
    'ports and health, the services, and the router URL (local engine).',
    '',
    'Options:',
    '  DIR                  Config directory whose state to show (its DIR/.setopsd).',
    '  --stage STAGE        ORG/PROJECT/STAGE, PROJECT/STAGE or STAGE; repeatable. Default: every stage.',
    '  --format FORMAT      text (default) or json.',
    STATE_DIR_HELP,
    '',
    'Exit codes: 0 shown, 1 error.',
  ].join('\n'),
  options: { ...STATE_DIR_OPTION, stage: { type: 'string', multiple: true }, format: { type: 'string' } },
  async run(ctx) {
    const format = parseTextOrJson(ctx.args.values.format);
    if (ctx.args.positionals.length > 1) throw new UsageError('status takes at most one config directory');
    const stateDir = stateDirWithoutSource(ctx, ctx.args.positionals[0]);
    const refs = selectStages(stringList(ctx.args.values.stage), await knownStages(stateDir));
    const reports: StageStatusReport[] = [];
    for (const ref of refs) reports.push(await stageStatus({ deps: ctx.deps, stateDir }, ref, ctx.signal));
    ctx.deps.stdout.write(format === 'json' ? renderStatusJson(reports) : renderStatusText(reports));
    return 0;
  },
};
export default command;
