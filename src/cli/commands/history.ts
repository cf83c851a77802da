import type { Command } from '../command.js';
import { UsageError } from '../../errors.js';
import { stageKey } from '../../model/stage-model.js';
import { Journal, processGone } from '../../state/journal.js';
import { renderHistoryJson, renderHistoryText, summarizeDeployment } from '../../render/status.js';
import { STATE_DIR_HELP, STATE_DIR_OPTION } from '../state-dir.js';
import { knownStages, selectStages, stateDirWithoutSource } from '../stage-select.js';
import { parseTextOrJson } from '../../render/formats.js';

const command: Command = {
  name: 'history',
  summary: 'List the deployments of a stage',
  help: [
    'Usage: setopsd history STAGE [DIR] [--format text|json] [--state-dir DIR]',
    '',
    'The numbered deployments of a stage, newest first: status, kind, trigger, commit, start time,',
    'duration, changes, and the error of failed ones (an apply killed part-way shows as',
    '"interrupted").',
    '',
    'Options:',
    '  STAGE                ORG/PROJECT/STAGE, PROJECT/STAGE or STAGE.',
    '  DIR                  Config directory whose state to read (its DIR/.setopsd).',
    '  --format FORMAT      text (default) or json.',
    STATE_DIR_HELP,
    '',
    'Exit codes: 0 shown, 1 error.',
  ].join('\n'),
  options: { ...STATE_DIR_OPTION, format: { type: 'string' } },
  async run(ctx) {
    const format = parseTextOrJson(ctx.args.values.format);
    const [stage, dir, ...extra] = ctx.args.positionals;
    if (stage === undefined) throw new UsageError('history needs a STAGE, e.g. setopsd history shop/staging');
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    const stateDir = stateDirWithoutSource(ctx, dir);
    const [ref] = selectStages([stage], await knownStages(stateDir));
    const entries = (await new Journal(stateDir, ref!, () => ctx.deps.clock.now()).list()).reverse().map((d) => summarizeDeployment(d, processGone));
    ctx.deps.stdout.write(format === 'json' ? renderHistoryJson(stageKey(ref!), entries) : renderHistoryText(stageKey(ref!), entries));
    return 0;
  },
};
export default command;
