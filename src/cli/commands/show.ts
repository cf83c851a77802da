import type { Command } from '../command.js';
import { UsageError } from '../../errors.js';
import { showDeployment } from '../../operations/show-deployment.js';
import { renderDeploymentJson, renderDeploymentText } from '../../render/deployment.js';
import { parseTextOrJson } from '../../render/formats.js';
import { STATE_DIR_HELP, STATE_DIR_OPTION } from '../state-dir.js';
import { intOption, knownStages, selectStages, stateDirWithoutSource } from '../stage-select.js';

const command: Command = {
  name: 'show',
  summary: 'Print one deployment: its changeset and the model it applied',
  help: [
    'Usage: setopsd show STAGE [N] [DIR] [--format text|json] [--state-dir DIR]',
    '',
    'Deployment N of a stage (default: the newest): status, commit, trigger, times, error, the',
    'changeset it applied, a summary of its model, the last 20 lines of its log, and the exact',
    'desired model it applied (secrets as references).',
    'Deployments made before setopsd stored models show their changeset only.',
    '',
    'Options:',
    '  STAGE                ORG/PROJECT/STAGE, PROJECT/STAGE or STAGE.',
    '  N                    Deployment number, as `setopsd history STAGE` lists them.',
    '  DIR                  Config directory whose state to read (its DIR/.setopsd).',
    '  --format FORMAT      text (default) or json ({ deployment, model }).',
    STATE_DIR_HELP,
    '',
    'Exit codes: 0 shown, 1 error (no such stage or deployment).',
  ].join('\n'),
  options: { ...STATE_DIR_OPTION, format: { type: 'string' } },
  async run(ctx) {
    const format = parseTextOrJson(ctx.args.values.format);
    const [stage, ...rest] = ctx.args.positionals;
    if (stage === undefined) throw new UsageError('show needs a STAGE, e.g. setopsd show shop/staging 3');
    const number = rest[0] !== undefined && /^\d+$/.test(rest[0]) ? intOption('N', rest.shift(), 0) : undefined;
    if (rest.length > 1) throw new UsageError(`unexpected arguments: ${rest.slice(1).join(' ')}`);
    const stateDir = stateDirWithoutSource(ctx, rest[0]);
    const [ref] = selectStages([stage], await knownStages(stateDir));
    const { deployment, model, logTail } = await showDeployment({ deps: ctx.deps, stateDir }, ref!, number);
    ctx.deps.stdout.write(format === 'json' ? renderDeploymentJson(deployment, model, logTail) : renderDeploymentText(deployment, model, logTail));
    return 0;
  },
};
export default command;
