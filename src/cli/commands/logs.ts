import type { Command } from '../command.js';
import { SetopsError, UsageError } from '../../errors.js';
import { stageKey } from '../../model/stage-model.js';
import { engineFor } from '../../providers/registry.js';
import { StateStore } from '../../state/store.js';
import { printScheduleLog } from './schedule-log.js';
import { STATE_DIR_HELP, STATE_DIR_OPTION } from '../state-dir.js';
import { intOption, knownStages, selectStages, stateDirWithoutSource, stringList } from '../stage-select.js';

const command: Command = {
  name: 'logs',
  summary: "Print an app's logs",
  help: [
    'Usage: setopsd logs [DIR] --stage STAGE --app APP [--follow] [--lines N] [--state-dir DIR]',
    '',
    "Prints the last lines of an app's process logs, each line prefixed by its process; with",
    '--follow, keeps printing new lines until interrupted (Ctrl-C).',
    '',
    'Options:',
    '  DIR                  Config directory whose state to read (its DIR/.setopsd).',
    '  --stage STAGE        ORG/PROJECT/STAGE, PROJECT/STAGE or STAGE (may be left out when there is one stage).',
    '  --app APP            The app.',
    '  --lines N            How many recent lines (default 250).',
    '  --follow, -f         Keep printing new lines.',
    '  --schedule NAME      The runs of the app\'s scheduled task NAME instead (local engine): output',
    '                       between "run started" and "run ended … exit code N" lines, skipped runs.',
    STATE_DIR_HELP,
    '',
    'Exit codes: 0 done (or interrupted while following), 1 error.',
  ].join('\n'),
  options: {
    ...STATE_DIR_OPTION,
    stage: { type: 'string' },
    app: { type: 'string' },
    lines: { type: 'string' },
    follow: { type: 'boolean', short: 'f' },
    schedule: { type: 'string' },
  },
  async run(ctx) {
    const app = ctx.args.values.app;
    if (typeof app !== 'string' || app === '') throw new UsageError('logs needs --app APP');
    if (ctx.args.positionals.length > 1) throw new UsageError('logs takes at most one config directory');
    const lines = intOption('lines', ctx.args.values.lines, 250);
    const stateDir = stateDirWithoutSource(ctx, ctx.args.positionals[0]);
    const known = await knownStages(stateDir);
    const patterns = stringList(ctx.args.values.stage);
    if (patterns.length === 0 && known.length !== 1) {
      throw new UsageError(`logs needs --stage STAGE; known stages: ${known.map(stageKey).join(', ') || 'none'}`);
    }
    const [ref] = selectStages(patterns, known);
    const { model } = await new StateStore(stateDir).read(ref!);
    if (model === null) throw new SetopsError(`stage ${stageKey(ref!)} is not deployed; run setopsd apply first`, { code: 'E_NOT_DEPLOYED' });
    if (!model.apps[app]) {
      throw new UsageError(`app/${app} is not in stage ${stageKey(ref!)}; apps: ${Object.keys(model.apps).sort().join(', ') || 'none'}`);
    }
    const schedule = ctx.args.values.schedule;
    if (typeof schedule === 'string') return printScheduleLog(ctx, stateDir, ref!, app, schedule, model.apps[app]!.schedules ?? {}, lines);
    const engine = await engineFor(model.organization, { stateDir, deps: ctx.deps });
    if (!engine.logs) throw new SetopsError(`stage ${stageKey(ref!)}: the ${engine.name} engine cannot show logs here; use the provider's console`, { code: 'E_UNSUPPORTED' });
    const follow = ctx.args.values.follow === true;
    try {
      await engine.logs(ref!, app, { lines, follow, signal: ctx.signal, write: (s) => ctx.deps.stdout.write(s) });
    } catch (err) {
      // Ctrl-C ends --follow normally.
      if (follow && ctx.signal.aborted) return 0;
      throw err;
    }
    return 0;
  },
};
export default command;
