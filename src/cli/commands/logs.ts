import type { Command } from '../command.js';
import { SetopsError, UsageError } from '../../errors.js';
import { stageKey } from '../../model/stage-model.js';
import { engineFor } from '../../providers/registry.js';
import { StateStore } from '../../state/store.js';
import { printScheduleLog } from './schedule-log.js';
import { printSupervisorLog } from './supervisor-log.js';
import { parseSince } from '../since.js';
import { STATE_DIR_HELP, STATE_DIR_OPTION } from '../state-dir.js';
import { intOption, knownStages, selectStages, stateDirWithoutSource, stringList } from '../stage-select.js';

const command: Command = {
  name: 'logs',
  summary: "Print an app's logs",
  help: [
    'Usage: setopsd logs [DIR] --stage STAGE (--app APP [--schedule NAME] | --supervisor) [--since WHEN] [--lines N] [--follow] [--state-dir DIR]',
    '',
    "Prints the last lines of an app's process logs, each line prefixed by the time it was written",
    'and its process (web.1); with --follow, keeps printing new lines until interrupted (Ctrl-C).',
    '',
    'Options:',
    '  DIR                  Config directory whose state to read (its DIR/.setopsd).',
    '  --stage STAGE        ORG/PROJECT/STAGE, PROJECT/STAGE or STAGE (may be left out when there is one stage).',
    '  --app APP            The app.',
    '  --lines N            How many recent lines (default 250; with --since: every line since then).',
    '  --since WHEN         Only lines written since WHEN: a duration back from now (10m, 1h30m, 2d;',
    '                       units s, m, h, d, w) or a time (2026-12-02T10:00:00Z; UTC without a zone).',
    '  --follow, -f         Keep printing new lines.',
    '  --schedule NAME      The runs of the app\'s scheduled task NAME instead (local engine): output',
    '                       between "run started" and "run ended … exit code N" lines, skipped runs.',
    "  --supervisor         The stage supervisor's log instead (local engine: deployments, restarts,",
    '                       services), one line per event with its time.',
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
    since: { type: 'string' },
    supervisor: { type: 'boolean' },
  },
  async run(ctx) {
    const app = ctx.args.values.app;
    const supervisor = ctx.args.values.supervisor === true;
    if (supervisor && (app !== undefined || ctx.args.values.schedule !== undefined)) throw new UsageError('logs --supervisor shows the stage supervisor\'s log: leave out --app and --schedule');
    if (!supervisor && (typeof app !== 'string' || app === '')) throw new UsageError('logs needs --app APP (or --supervisor)');
    if (ctx.args.positionals.length > 1) throw new UsageError('logs takes at most one config directory');
    const sinceText = ctx.args.values.since;
    const since = typeof sinceText === 'string' ? parseSince(sinceText, ctx.deps.clock.now()) : undefined;
    const lines = intOption('lines', ctx.args.values.lines, since === undefined ? 250 : Infinity);
    const stateDir = stateDirWithoutSource(ctx, ctx.args.positionals[0]);
    const known = await knownStages(stateDir);
    const patterns = stringList(ctx.args.values.stage);
    if (patterns.length === 0 && known.length !== 1) {
      throw new UsageError(`logs needs --stage STAGE; known stages: ${known.map(stageKey).join(', ') || 'none'}`);
    }
    const [ref] = selectStages(patterns, known);
    const { model } = await new StateStore(stateDir).read(ref!);
    if (model === null) throw new SetopsError(`stage ${stageKey(ref!)} is not deployed; run setopsd apply first`, { code: 'E_NOT_DEPLOYED' });
    const follow = ctx.args.values.follow === true;
    if (supervisor) return printSupervisorLog(ctx, stateDir, ref!, model.organization, { lines, follow, ...(since !== undefined ? { since } : {}) });
    if (typeof app !== 'string') throw new UsageError('logs needs --app APP (or --supervisor)');
    if (!model.apps[app]) {
      throw new UsageError(`app/${app} is not in stage ${stageKey(ref!)}; apps: ${Object.keys(model.apps).sort().join(', ') || 'none'}`);
    }
    const schedule = ctx.args.values.schedule;
    if (typeof schedule === 'string') return printScheduleLog(ctx, stateDir, ref!, app, schedule, model.apps[app]!.schedules ?? {}, lines, since);
    const engine = await engineFor(model.organization, { stateDir, deps: ctx.deps });
    if (!engine.logs) throw new SetopsError(`stage ${stageKey(ref!)}: the ${engine.name} engine cannot show logs here; use the provider's console`, { code: 'E_UNSUPPORTED' });
    try {
      await engine.logs(ref!, app, { lines, follow, ...(since !== undefined ? { since } : {}), signal: ctx.signal, write: (s) => ctx.deps.stdout.write(s) });
    } catch (err) {
      // Ctrl-C ends --follow normally.
      if (follow && ctx.signal.aborted) return 0;
      throw err;
    }
    return 0;
  },
};
export default command;
