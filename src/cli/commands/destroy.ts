import type { Command } from '../command.js';
import { UsageError } from '../../errors.js';
import { stageKey } from '../../model/stage-model.js';
import { destroyStage } from '../../operations/destroy-stage.js';
import { applyProgressPrinter, renderApplySummary } from '../../render/progress.js';
import { STATE_DIR_HELP, STATE_DIR_OPTION } from '../state-dir.js';
import { intOption, knownStages, selectStages, stateDirWithoutSource } from '../stage-select.js';

const command: Command = {
  name: 'destroy',
  summary: 'Remove everything of a stage',
  help: [
    'Usage: setopsd destroy STAGE [DIR] [--yes] [--allow-data-loss] [--lock-timeout SECONDS] [--state-dir DIR]',
    '',
    'Stops every app process, the router and the service servers of a stage and records it as',
    'gone (a numbered deployment of kind "destroy" in its history). Databases, buckets and',
    'volumes are kept unless --allow-data-loss is given. Protected stages are refused.',
    '',
    'Options:',
    '  STAGE                ORG/PROJECT/STAGE, PROJECT/STAGE or STAGE.',
    '  DIR                  Config directory whose state to use (its DIR/.setopsd).',
    '  --yes, -y            Do not ask for confirmation (required without a terminal).',
    '  --allow-data-loss    Also delete the data of the stage\'s services.',
    '  --lock-timeout S     Wait up to S seconds for another command holding the stage (default 0).',
    STATE_DIR_HELP,
    '',
    'Exit codes: 0 destroyed (or nothing to destroy), 1 refused or failed.',
  ].join('\n'),
  options: {
    ...STATE_DIR_OPTION,
    yes: { type: 'boolean', short: 'y' },
    'allow-data-loss': { type: 'boolean' },
    'lock-timeout': { type: 'string' },
  },
  async run(ctx) {
    const { deps } = ctx;
    const [stage, dir, ...extra] = ctx.args.positionals;
    if (stage === undefined) throw new UsageError('destroy needs a STAGE, e.g. setopsd destroy shop/staging');
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    const lockTimeoutMs = intOption('lock-timeout', ctx.args.values['lock-timeout'], 0) * 1000;
    const allowDataLoss = ctx.args.values['allow-data-loss'] === true;
    const stateDir = stateDirWithoutSource(ctx, dir);
    const [ref] = selectStages([stage], await knownStages(stateDir));
    const key = stageKey(ref!);
    const terminal = deps.prompt !== undefined && deps.isTTY.stdin;
    const progress = applyProgressPrinter();
    const outcome = await destroyStage(
      { deps, stateDir },
      {
        ref: ref!,
        allowDataLoss,
        lockTimeoutMs,
        yes: ctx.args.values.yes === true,
        ...(terminal ? { confirm: async () => (await deps.prompt!(`Destroy stage ${key}? Type "yes" to confirm: `, ctx.signal)).trim() === 'yes' } : {}),
        onReview: (model) => {
          const services = Object.keys(model.services).sort();
          deps.stdout.write(
            `${key}: destroy stops ${Object.keys(model.apps).length} app(s) and ${services.length} service(s)` +
              (services.length === 0 ? '' : allowDataLoss ? `; the data of ${services.join(', ')} is DELETED` : `; the data of ${services.join(', ')} is kept (--allow-data-loss deletes it)`) +
              '\n',
          );
        },
        onEvent: (e) => deps.stdout.write(progress(e)),
      },
      ctx.signal,
    );
    if (outcome.status === 'not-deployed') {
      deps.stdout.write(`${key}: not deployed; nothing to destroy\n`);
      return 0;
    }
    if (outcome.status === 'declined') {
      deps.stdout.write('destroy: canceled, nothing changed\n');
      return 1;
    }
    deps.stdout.write(renderApplySummary([outcome], 'destroy'));
    return outcome.status === 'succeeded' || outcome.status === 'unchanged' ? 0 : 1;
  },
};
export default command;
