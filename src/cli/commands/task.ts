import { constants } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { Command } from '../command.js';
import { UsageError } from '../../errors.js';
import { stageKey } from '../../model/stage-model.js';
import { listTasks, parseEnvArgs, recordScheduledRuns, runTask, type TaskRecord } from '../../operations/tasks.js';
import { Notifier } from '../../providers/notify/notifier.js';
import { parseTextOrJson } from '../../render/formats.js';
import { STATE_DIR_HELP, STATE_DIR_OPTION } from '../state-dir.js';
import { knownStages, selectStages, stateDirWithoutSource, stringList } from '../stage-select.js';

const command: Command = {
  name: 'task',
  summary: "Run a one-off command in an app's environment; list the runs",
  help: [
    'Usage: setopsd task run  STAGE APP [--env KEY=VALUE …] [--secrets FILE] [--timeout SECONDS] -- CMD [ARGS…]',
    '       setopsd task list STAGE [--format text|json]',
    '',
    '`run` runs CMD once (exec form, no shell: use `-- sh -c "…"` for one) in the environment of',
    'APP as it is deployed now — its env with secrets resolved, its link variables, its workdir —',
    'streams its output and exits with its exit code (128+N when killed by signal N). SIGINT stops',
    'it (its whole process group). On the local engine it is a process of its own group marked',
    'as the stage\'s, so a stage supervisor started after a crash of this command stops it.',
    'It may run for --timeout seconds (default 86400, SetOps\' limit for one-off tasks).',
    'Every run is recorded per stage: command (secret values replaced by their names), who',
    'started it, exit code, duration and log file (stages/…/logs/tasks/ID.log); a failed run is',
    'sent to the stage\'s notifications (task.failed).',
    '`list` on an AWS stage also records the runs of its scheduled tasks that ECS knows (the tasks',
    'EventBridge Scheduler started, itself or through the state machine of a schedule with timeout,',
    'ECS task group schedule:NAME; ECS keeps stopped ones for about an hour): command, exit code,',
    'times, log stream and, for a failed run, why ECS stopped it; a run stopped at its timeout is',
    'failed ("stopped after its timeout of N s"). On a local stage the supervisor records each',
    'scheduled run itself (started by "schedule NAME", log logs/APP.schedule.NAME.log). The',
    'daemon sends each failed scheduled run to the stage\'s notifications once (task.failed).',
    'The newest 500 runs of a stage are kept.',
    '',
    'Options:',
    '  --env KEY=VALUE      Set or override an env variable for this run; repeatable.',
    '  --secrets FILE       Secrets for the stage\'s notification keys.',
    '  --timeout SECONDS    Stop the task after this long (default 86400).',
    '  --format FORMAT      list: text (default) or json.',
    STATE_DIR_HELP,
    '',
    'Exit codes: run: the command\'s; 1 when it cannot start. list: 0, or 1 on error.',
  ].join('\n'),
  options: { ...STATE_DIR_OPTION, env: { type: 'string', multiple: true }, secrets: { type: 'string' }, timeout: { type: 'string' }, format: { type: 'string' } },
  async run(ctx) {
    const { deps, signal } = ctx;
    const v = ctx.args.values;
    const [verb, stage, ...rest] = ctx.args.positionals;
    if (verb !== 'run' && verb !== 'list') throw new UsageError(`task needs run or list, got ${verb === undefined ? 'nothing' : `"${verb}"`}; see setopsd task --help`);
    if (stage === undefined) throw new UsageError(`task ${verb} needs a STAGE, e.g. setopsd task ${verb} shop/staging${verb === 'run' ? ' web -- node migrate.js' : ''}`);
    const stateDir = stateDirWithoutSource(ctx, undefined);
    const [ref] = selectStages([stage], await knownStages(stateDir));
    const key = stageKey(ref!);
    if (verb === 'list') {
      if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
      const seen = await recordScheduledRuns(deps, { stateDir, ref: ref! }, signal);
      if (seen.error !== undefined) deps.stderr.write(`warning: the runs of ${key}'s scheduled tasks could not be read from the provider: ${seen.error}\n`);
      const tasks = await listTasks(stateDir, ref!);
      deps.stdout.write(parseTextOrJson(v.format) === 'json' ? JSON.stringify({ stage: key, tasks }, null, 2) + '\n' : renderList(key, tasks));
      return 0;
    }
    const [app, ...argv] = rest;
    if (app === undefined) throw new UsageError(`task run needs an APP, e.g. setopsd task run ${key} web -- node migrate.js`);
    const timeout = v.timeout === undefined ? 86_400 : Number(v.timeout);
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > 86_400) throw new UsageError(`--timeout must be whole seconds from 1 to 86400, got "${String(v.timeout)}"`);
    const notifier = new Notifier({ log: deps.log, sleep: deps.sleep });
    try {
      const record = await runTask(
        deps,
        {
          stateDir,
          ref: ref!,
          app,
          argv,
          env: parseEnvArgs(stringList(v.env)),
          timeoutMs: timeout * 1000,
          configRoot: dirname(stateDir),
          ...(typeof v.secrets === 'string' ? { secretsFile: resolve(deps.cwd, v.secrets) } : {}),
          write: (s) => deps.stdout.write(s),
          notifier,
        },
        signal,
      );
      const how = record.exitCode !== null ? `exit code ${record.exitCode}` : `signal ${record.signal}`;
      deps.stderr.write(`task ${record.id} of app/${app} in ${key}: ${record.stopped ? `${record.stopped === 'timeout' ? 'timed out' : 'stopped'}, ` : ''}${how} after ${((record.durationMs ?? 0) / 1000).toFixed(1)}s; log ${record.log}\n`);
      if (record.exitCode !== null) return record.exitCode;
      const n = (constants.signals as Record<string, number>)[record.signal ?? ''] ?? 0;
      return 128 + n;
    } finally {
      await notifier.drain();
    }
  },
};
export default command;

function renderList(key: string, tasks: TaskRecord[]): string {
  if (tasks.length === 0) return `${key}: no task runs\n`;
  const lines = [`${key}: ${tasks.length} task run${tasks.length === 1 ? '' : 's'}, newest first`];
  for (const r of tasks) {
    const result = r.status === 'running' ? 'running' : r.exitCode !== null ? `exit ${r.exitCode}` : `signal ${r.signal}`;
    lines.push(`  ${r.id}  app/${r.app}  ${result.padEnd(8)}  ${((r.durationMs ?? 0) / 1000).toFixed(1).padStart(6)}s  ${r.startedAt}  ${r.startedBy}  ${r.command.join(' ')}`);
    if (r.reason && r.status === 'failed') lines.push(`      reason ${r.reason}`);
    if (r.log) lines.push(`      log ${r.log}`);
  }
  return lines.join('\n') + '\n';
}
