import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { Deps } from '../deps.js';
import { EngineError, UsageError } from '../errors.js';
import { isSecretRef, stageKey, type OrganizationModel, type StageModel, type StageRef } from '../model/stage-model.js';
import type { Engine } from '../providers/engine.js';
import { deployedEnvValues, runLocalTask } from '../providers/local/task-run.js';
import { taskFailedNotice } from '../providers/notify/notices.js';
import type { Notifier } from '../providers/notify/notifier.js';
import { engineFor, secretsFor } from '../providers/registry.js';
import { pruneTaskRecords, readTaskRecord, readTaskRecords, taskRecordId, tasksDir, writeTaskRecord, type TaskRecord } from '../state/task-records.js';
import { StateStore } from '../state/store.js';

export type { TaskRecord } from '../state/task-records.js';

export interface TaskRequest {
  stateDir: string;
  ref: StageRef;
  app: string;
  argv: string[];
  env: Record<string, string>;
  startedBy?: string;
  /** Default 24 h (SetOps' limit for one-off tasks). */
  timeoutMs?: number;
  configRoot: string;
  secretsFile?: string;
  write(chunk: string): void;
  notifier?: Notifier;
  /** The engine of a non-local organization (tests: one with a fake ECS endpoint); default the registry. */
  engineOf?: (organization: OrganizationModel) => Promise<Engine>;
}

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DAY_MS = 86_400_000;

/** `K=V` arguments of `--env` as a map; a bad one is a UsageError naming it. */
export function parseEnvArgs(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    if (eq < 0 || !ENV_KEY.test(key)) throw new UsageError(`--env ${item}: must be KEY=VALUE with KEY of letters, digits and "_", not starting with a digit`);
    if (['PORT', 'PORTS', 'APP_ENV_ID', 'PROTOCOL'].includes(key)) throw new UsageError(`--env ${key}: reserved; the platform sets it`);
    out[key] = item.slice(eq + 1);
  }
  return out;
}

/**
 * Runs a command once in an app's environment on the currently deployed model (local engine),
 * recording the run before it starts and its outcome after (command without secret values,
 * who started it, exit code, duration, log file). A non-zero exit is an outcome, not an error:
 * it is returned (and sent to the stage's notifications as `task.failed`).
 */
export async function runTask(deps: Deps, req: TaskRequest, signal: AbortSignal): Promise<TaskRecord> {
  if (req.argv.length === 0) throw new UsageError(`task run needs a command after --, e.g. setopsd task run ${stageKey(req.ref)} ${req.app} -- node migrate.js`);
  const model = (await new StateStore(req.stateDir).read(req.ref)).model;
  if (model === null) throw new EngineError(`stage ${stageKey(req.ref)} is not deployed; apply it first`, { code: 'E_NOT_DEPLOYED' });
  const app = model.apps[req.app];
  if (app === undefined) {
    const known = Object.keys(model.apps).sort();
    throw new EngineError(`stage ${stageKey(req.ref)} has no app ${req.app}; ${known.length ? `its apps: ${known.join(', ')}` : 'it has no apps'}`, { code: 'E_NO_APP' });
  }
  const secretKeys = Object.entries(app.env).filter(([, v]) => isSecretRef(v));
  const values = await deployedEnvValues(req.stateDir, req.ref, req.app, secretKeys.map(([k]) => k));
  const names = Object.fromEntries(secretKeys.map(([k, v]) => [k, (v as { secret: string }).secret]));
  const redact = (s: string) => values.reduce((acc, value, i) => acc.split(value).join(`(secret ${names[secretKeys[i]![0]] ?? 'value'})`), s);

  const now = deps.clock.now();
  const id = taskRecordId(now, randomBytes(3).toString('hex'));
  const dir = tasksDir(req.stateDir, req.ref);
  let record: TaskRecord = {
    formatVersion: 1,
    id,
    app: req.app,
    command: req.argv.map(redact),
    envKeys: Object.keys(req.env).sort(),
    startedBy: req.startedBy ?? `cli ${safeUser()}@${hostname()}`,
    status: 'running',
    exitCode: null,
    signal: null,
    startedAt: new Date(now).toISOString(),
    log: '',
  };
  const save = () => writeTaskRecord(dir, record);
  await save();
  try {
    const result =
      model.organization.provider === 'local'
        ? await runLocalTask({ stateDir: req.stateDir, ref: req.ref, app: req.app, argv: req.argv, env: req.env, id, write: req.write, deps, signal, timeoutMs: req.timeoutMs ?? DAY_MS })
        : await runEngineTask(deps, req, model, signal);
    const ended = deps.clock.now();
    record = { ...record, status: result.exitCode === 0 ? 'succeeded' : 'failed', exitCode: result.exitCode, signal: result.signal, ...(result.stopped ? { stopped: result.stopped } : {}), endedAt: new Date(ended).toISOString(), durationMs: ended - now, log: result.log };
  } catch (err) {
    const ended = deps.clock.now();
    record = { ...record, status: 'failed', endedAt: new Date(ended).toISOString(), durationMs: ended - now };
    await save();
    throw err;
  }
  await save();
  await pruneTaskRecords(dir);
  if (record.status === 'failed' && record.stopped !== 'canceled') notifyFailed(deps, req, model, record);
  return record;
}

/**
 * A task run by the stage's engine (AWS: ECS RunTask of the app's current task definition with a
 * command override; the exit code from the stopped task). Its output is streamed from its
 * CloudWatch Logs stream while it runs (when the engine can read it; else the command to read it
 * is printed).
 */
async function runEngineTask(deps: Deps, req: TaskRequest, model: StageModel, signal: AbortSignal): Promise<{ exitCode: number | null; signal: string | null; log: string; stopped?: 'canceled' | 'timeout' }> {
  const engine = await (req.engineOf ?? ((org) => engineFor(org, { stateDir: req.stateDir, deps })))(model.organization);
  if (engine.runTask === undefined) throw new EngineError(`app/${req.app} in ${stageKey(req.ref)}: the ${engine.name} engine cannot run one-off tasks`, { code: 'E_UNSUPPORTED' });
  const res = await engine.runTask(req.ref, { app: req.app, argv: req.argv, env: req.env, write: req.write }, signal);
  const log = res.logGroup && res.logStream ? `cloudwatch ${res.logGroup} ${res.logStream}` : '';
  req.write(`${res.taskArn ? `task ${res.taskArn}: ` : ''}${res.exitCode === null ? `did not run: ${res.reason}` : `exited with ${res.exitCode} (${res.reason})`}
`);
  // Streamed output is above; otherwise say where it is.
  if (log && !res.streamed) req.write(`output: aws logs tail ${res.logGroup} --log-stream-names ${res.logStream}
`);
  return { exitCode: res.exitCode, signal: null, log };
}

function notifyFailed(deps: Deps, req: TaskRequest, model: StageModel, record: TaskRecord): void {
  req.notifier?.notify(
    model,
    taskFailedNotice(req.ref, { app: record.app, task: `${record.id} (${record.command.join(' ').slice(0, 80)})`, exitCode: record.exitCode, signal: record.signal, log: record.log }, deps.clock.now()),
    secretsFor(model.organization, { ...(req.secretsFile ? { secretsFile: req.secretsFile } : {}), configRoot: req.configRoot, env: deps.env }),
  );
}

/**
 * Records the runs of scheduled tasks the stage's engine knows now (AWS: the ECS tasks
 * EventBridge Scheduler started, group `schedule:NAME`; ECS keeps stopped ones for about an
 * hour) as task records, so `task list` shows them — and keeps them after the provider forgot
 * them. Local stages have nothing to ask: their supervisor writes a record per scheduled run
 * (src/providers/local/schedules.ts). The daemon calls this on an interval too, so failed runs
 * are recorded (and notified) when nobody runs `task list`; `notifiedAt` of a run recorded
 * before is kept.
 * A provider that cannot be asked is reported in `error`, never thrown: the records there are
 * still listed.
 */
export async function recordScheduledRuns(
  deps: Deps,
  req: { stateDir: string; ref: StageRef; engineOf?: (organization: OrganizationModel) => Promise<Engine> },
  signal: AbortSignal,
): Promise<{ recorded: number; error?: string }> {
  const model = (await new StateStore(req.stateDir).read(req.ref)).model;
  if (model === null || model.organization.provider === 'local') return { recorded: 0 };
  let runs;
  try {
    const engine = await (req.engineOf ?? ((org) => engineFor(org, { stateDir: req.stateDir, deps })))(model.organization);
    if (engine.scheduledRuns === undefined) return { recorded: 0 };
    runs = await engine.scheduledRuns(req.ref, signal);
  } catch (err) {
    if (signal.aborted) throw err;
    return { recorded: 0, error: (err as Error).message };
  }
  const dir = tasksDir(req.stateDir, req.ref);
  for (const run of runs) {
    const id = taskRecordId(Date.parse(run.startedAt), run.id);
    const before = await readTaskRecord(dir, id);
    const ended = run.endedAt !== undefined ? Date.parse(run.endedAt) : undefined;
    const record: TaskRecord = {
      formatVersion: 1,
      id,
      app: run.app,
      command: run.command,
      envKeys: [],
      startedBy: `schedule ${run.schedule} (EventBridge Scheduler)`,
      status: run.status,
      exitCode: run.exitCode,
      signal: null,
      ...(run.stopped ? { stopped: run.stopped } : {}),
      ...(run.reason ? { reason: run.reason } : {}),
      startedAt: run.startedAt,
      ...(run.endedAt !== undefined ? { endedAt: run.endedAt, durationMs: ended! - Date.parse(run.startedAt) } : {}),
      log: run.logGroup && run.logStream ? `cloudwatch ${run.logGroup} ${run.logStream}` : '',
      ...(before?.notifiedAt !== undefined ? { notifiedAt: before.notifiedAt } : {}),
    };
    // Nothing new: no write on every check (built by this function, so the same key order; a false "changed" only costs a write).
    if (before !== null && JSON.stringify(before) === JSON.stringify(record)) continue;
    await writeTaskRecord(dir, record);
  }
  if (runs.length > 0) await pruneTaskRecords(dir);
  return { recorded: runs.length };
}

/** The task runs of a stage, newest first. */
export function listTasks(stateDir: string, ref: StageRef): Promise<TaskRecord[]> {
  return readTaskRecords(tasksDir(stateDir, ref));
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
