import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { EngineError } from '../../errors.js';
import { stageKey, type StageRef } from '../../model/stage-model.js';
import { Credentials } from './credentials.js';
import { linkEnv, type Connection } from './links.js';
import type { LocalDeps } from './local-deps.js';
import { localPaths, type LocalPaths } from './paths.js';
import { pgNames } from './postgres.js';
import { signalGroup, waitGone } from './proc.js';
import { OWNER_ENV, ROLE_ENV, type AppSpec, type DesiredRuntime } from './protocol.js';

/** From the supervisor's environment, the only variables a process gets besides its own (as for app processes). */
const BASE_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'SHELL'];

/** One one-off task of an app on the local engine. */
export interface LocalTaskRun {
  stateDir: string;
  ref: StageRef;
  app: string;
  /** Exec form; run without a shell. */
  argv: string[];
  /** `--env K=V` over the app's env. */
  env: Record<string, string>;
  /** Task id: the log file and the process role are named by it. */
  id: string;
  /** Output as it comes (the CLI's stdout); everything also goes to the task's log file. */
  write(chunk: string): void;
  deps: LocalDeps;
  signal: AbortSignal;
  /** After this the task is stopped like on SIGINT (default: never). */
  timeoutMs?: number;
  /** SIGTERM → SIGKILL grace when stopped (default 10 s). */
  graceMs?: number;
}

export interface LocalTaskResult {
  exitCode: number | null;
  signal: string | null;
  /** Why it was stopped before it ended by itself. */
  stopped?: 'canceled' | 'timeout';
  log: string;
}

/** The task's log file. */
export function taskLogFile(paths: LocalPaths, id: string): string {
  return join(paths.logsDir, 'tasks', `${id}.log`);
}

/**
 * Runs a command once in an app's environment as it is deployed now: the app's env (secrets
 * resolved when it was deployed, from the supervisor's `desired.json`), its link variables (from
 * the stage's service credentials), its working directory; no PORT (it serves no traffic). The
 * process is its own process group and carries the stage's owner marker with the role
 * `task/APP/ID`: SIGINT (the signal) or the timeout stops the whole group (SIGTERM, then SIGKILL),
 * and a stage supervisor that starts after this command died stops any such leftover.
 */
export async function runLocalTask(t: LocalTaskRun): Promise<LocalTaskResult> {
  const paths = localPaths(t.stateDir, t.ref);
  const subject = `app/${t.app} in ${stageKey(t.ref)}`;
  const desired = await readDesired(paths);
  const spec = desired?.apps[t.app];
  if (spec === undefined) {
    const known = Object.keys(desired?.apps ?? {}).sort();
    throw new EngineError(`${subject}: not deployed on the local engine; ${known.length ? `deployed apps: ${known.join(', ')}` : 'apply the stage first'}`, { code: 'E_NO_APP' });
  }
  const env = await taskEnv(paths, t, spec, desired!);
  const log = taskLogFile(paths, t.id);
  await mkdir(dirname(log), { recursive: true });
  const file = createWriteStream(log, { flags: 'a', mode: 0o600 });
  const out = (chunk: Buffer) => {
    const s = chunk.toString('utf8');
    file.write(s);
    t.write(s);
  };
  let stopped: LocalTaskResult['stopped'];
  const result = await new Promise<{ exitCode: number | null; signal: string | null }>((resolve, reject) => {
    const child = spawn(t.argv[0]!, t.argv.slice(1), { cwd: spec.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', out);
    child.stderr!.on('data', out);
    const stop = (why: NonNullable<LocalTaskResult['stopped']>) => {
      if (stopped !== undefined || child.pid === undefined) return;
      stopped = why;
      signalGroup(child.pid, 'SIGTERM');
      void waitGone(child.pid, t.graceMs ?? 10_000, t.deps).then((gone) => gone || signalGroup(child.pid!, 'SIGKILL'));
    };
    const onAbort = () => stop('canceled');
    t.signal.addEventListener('abort', onAbort, { once: true });
    const timer = t.timeoutMs ? setTimeout(() => stop('timeout'), t.timeoutMs) : undefined;
    child.on('error', (err) => {
      t.signal.removeEventListener('abort', onAbort);
      clearTimeout(timer);
      reject(new EngineError(`${subject}: cannot start ${t.argv[0]}: ${(err as NodeJS.ErrnoException).code ?? err.message}; the command runs in ${spec.cwd}`, { code: 'E_TASK_FAILED' }));
    });
    child.on('close', (code, sig) => {
      t.signal.removeEventListener('abort', onAbort);
      clearTimeout(timer);
      // The group may hold children of the command that outlive it: they go too.
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      resolve({ exitCode: code, signal: sig });
    });
  });
  await new Promise<void>((resolve) => file.end(() => resolve()));
  return { ...result, ...(stopped ? { stopped } : {}), log };
}

async function readDesired(paths: LocalPaths): Promise<DesiredRuntime | null> {
  try {
    return JSON.parse(await readFile(paths.desiredFile, 'utf8')) as DesiredRuntime;
  } catch {
    return null;
  }
}

/** The env of an app process without a port, plus `--env` overrides (the same rule as the supervisor's). */
async function taskEnv(paths: LocalPaths, t: LocalTaskRun, spec: AppSpec, desired: DesiredRuntime): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const k of BASE_ENV) {
    const v = t.deps.env[k];
    if (v !== undefined) env[k] = v;
  }
  Object.assign(env, spec.env, linkEnv(spec.links, await connections(paths, desired)), t.env);
  env.PROTOCOL = spec.protocol;
  env.APP_ENV_ID = `${spec.name}.${t.ref.stage}.${t.ref.project}`;
  env[OWNER_ENV] = paths.stageDir;
  env[ROLE_ENV] = `task/${t.app}/${t.id}`;
  return env;
}

/** How the stage's services are reached, from its credentials file (the supervisor's own source). */
async function connections(paths: LocalPaths, desired: DesiredRuntime): Promise<Record<string, Connection>> {
  const creds = await new Credentials(paths.credentialsFile).load();
  const out: Record<string, Connection> = {};
  for (const s of Object.values(desired.services)) {
    const entry = creds.services[s.name];
    if (s.type === 'postgresql' && entry && creds.postgres) {
      const { database, role } = pgNames(s.name);
      out[s.name] = { type: 'postgresql', host: '127.0.0.1', port: creds.postgres.port, user: role, password: entry.password, database };
    } else if (s.type === 'redis' && entry?.port !== undefined) out[s.name] = { type: 'redis', host: '127.0.0.1', port: entry.port, password: entry.password };
    else if (s.type === 's3') out[s.name] = { type: 's3', bucket: s.name, path: join(paths.dataDir, s.name) };
    else if (s.type === 'volume') out[s.name] = { type: 'volume', path: join(paths.dataDir, s.name) };
  }
  return out;
}

/** The values the deployed app has for `keys` (its secret env vars), to keep them out of task records. */
export async function deployedEnvValues(stateDir: string, ref: StageRef, app: string, keys: readonly string[]): Promise<string[]> {
  const spec = (await readDesired(localPaths(stateDir, ref)))?.apps[app];
  return keys.map((k) => spec?.env[k]).filter((v): v is string => typeof v === 'string' && v.length > 0);
}
