import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../../errors.js';
import { stageKey, type StageRef } from '../../model/stage-model.js';
import { engineFor } from '../../providers/registry.js';
import { Journal, processGone } from '../../state/journal.js';
import { readStageLock } from '../../state/lock.js';
import { StateStore } from '../../state/store.js';
import { renderStatusJson, renderStatusText, summarizeDeployment, type StageStatusReport } from '../../render/status.js';
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
    for (const ref of refs) reports.push(await stageStatus(ctx, stateDir, ref));
    ctx.deps.stdout.write(format === 'json' ? renderStatusJson(reports) : renderStatusText(reports));
    return 0;
  },
};
export default command;

/** Everything `status` shows for one stage: recorded model, journal, lock and the engine's runtime view. */
export async function stageStatus(ctx: CommandContext, stateDir: string, ref: StageRef): Promise<StageStatusReport> {
  const recorded = await new StateStore(stateDir).read(ref);
  const latest = await new Journal(stateDir, ref, () => ctx.deps.clock.now()).latest();
  const model = recorded.model;
  const organization = model?.organization ?? { name: ref.organization, provider: 'local' as const };
  const engine = await engineFor(organization, { stateDir, deps: ctx.deps });
  const report: StageStatusReport = {
    stage: stageKey(ref),
    engine: engine.name,
    serial: recorded.model === null ? null : recorded.serial,
    lastDeployment: latest ? summarizeDeployment(latest, processGone) : null,
    lock: await readStageLock(stateDir, ref),
    apps: Object.fromEntries(Object.entries(model?.apps ?? {}).map(([n, a]) => [n, { scale: a.scale, public: a.public }])),
    services: Object.fromEntries(Object.entries(model?.services ?? {}).map(([n, s]) => [n, { type: s.type }])),
    runtime: null,
  };
  if (model !== null && engine.status) {
    try {
      report.runtime = await engine.status(ref, ctx.signal);
    } catch (err) {
      report.runtimeError = (err as Error).message;
    }
  }
  return report;
}
