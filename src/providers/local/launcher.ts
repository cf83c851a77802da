import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { EngineError } from '../../errors.js';
import { stageKey, type StageRef } from '../../model/stage-model.js';
import { ControlClient } from './control.js';
import type { LocalPaths } from './paths.js';
import { CONTROL_PROTOCOL, type SupervisorInfo } from './protocol.js';
import { cmdlineOf, isRunning, waitGone } from './proc.js';
import { tailOf } from './app-runner.js';
import type { LocalDeps } from './local-deps.js';

/** Supervisor settings the engine passes on (tests shorten backoff and grace). */
export interface SupervisorLaunchOptions {
  routerPort?: number;
  backoff?: { baseMs: number; capMs: number };
  stopGraceMs?: number;
}

/** The stage's recorded supervisor (`supervisor.json`), or null when none is recorded. */
export async function readSupervisorInfo(paths: LocalPaths): Promise<SupervisorInfo | null> {
  try {
    return JSON.parse(await readFile(paths.supervisorFile, 'utf8')) as SupervisorInfo;
  } catch {
    return null;
  }
}

/** Whether `pid` runs the supervisor of this stage (by its command line: a reused pid is not). */
export async function isStageSupervisor(pid: number, paths: LocalPaths): Promise<boolean> {
  const cmd = (await cmdlineOf(pid)) ?? [];
  return cmd.some((a) => a.includes('supervisor-main')) && cmd.includes(paths.stageDir);
}

/** The running supervisor of a stage, or null (nothing answers). Never starts one. */
export async function findSupervisor(paths: LocalPaths): Promise<ControlClient | null> {
  const info = await readSupervisorInfo(paths);
  if (info === null || !(await isRunning(info.pid))) return null;
  const client = new ControlClient(info);
  try {
    const pong = await client.ping({ timeoutMs: 5000 });
    // A supervisor of another setopsd version is not ours to talk to: ensureSupervisor replaces it.
    return pong.protocol === CONTROL_PROTOCOL ? client : null;
  } catch {
    return null;
  }
}

/**
 * The stage's supervisor, started when none answers. Start-up is serialised by an exclusive
 * lock file (a lock whose owner died is taken over). A supervisor that runs but does not answer
 * is killed first (checked by its command line), so there is never more than one per stage.
 * A started supervisor inherits `deps.env` as its environment.
 */
export async function ensureSupervisor(paths: LocalPaths, ref: StageRef, opts: SupervisorLaunchOptions, deps: LocalDeps, signal: AbortSignal): Promise<ControlClient> {
  const found = await findSupervisor(paths);
  if (found) return found;
  await mkdir(paths.localDir, { recursive: true, mode: 0o700 });
  await mkdir(paths.logsDir, { recursive: true });
  const release = await acquireStartLock(paths.startLock, stageKey(ref), deps, signal);
  try {
    const again = await findSupervisor(paths);
    if (again) return again;
    await killHungSupervisor(paths, deps);
    return await launch(paths, ref, opts, deps, signal);
  } finally {
    await release();
  }
}

async function killHungSupervisor(paths: LocalPaths, deps: LocalDeps): Promise<void> {
  const info = await readSupervisorInfo(paths);
  if (info === null) return;
  if (await isStageSupervisor(info.pid, paths)) {
    try {
      process.kill(info.pid, 'SIGKILL');
    } catch {
      // gone
    }
    await waitGone(info.pid, 5000, deps);
  }
  await rm(paths.supervisorFile, { force: true });
}

/** How to run supervisor-main: the built `.js` directly, or the `.ts` source through tsx (tests). */
function entry(): { args: string[] } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    let loader = 'tsx';
    try {
      loader = import.meta.resolve('tsx');
    } catch {
      // fall back to resolving from the working directory
    }
    return { args: ['--import', loader, fileURLToPath(new URL('./supervisor-main.ts', here))] };
  }
  return { args: [fileURLToPath(new URL('./supervisor-main.js', here))] };
}

async function launch(paths: LocalPaths, ref: StageRef, opts: SupervisorLaunchOptions, deps: LocalDeps, signal: AbortSignal): Promise<ControlClient> {
  const args = [...entry().args, '--stage-dir', paths.stageDir, '--stage', stageKey(ref)];
  if (opts.routerPort) args.push('--router-port', String(opts.routerPort));
  if (opts.backoff) args.push('--backoff', `${opts.backoff.baseMs},${opts.backoff.capMs}`);
  if (opts.stopGraceMs) args.push('--stop-grace', String(opts.stopGraceMs));
  const fd = openSync(paths.supervisorLog, 'a');
  let pid: number;
  let exited = false;
  try {
    const child = spawn(process.execPath, args, { cwd: paths.stageDir, detached: true, stdio: ['ignore', fd, fd], env: deps.env });
    child.on('exit', () => void (exited = true));
    child.on('error', () => void (exited = true));
    child.unref();
    pid = child.pid ?? 0;
  } finally {
    closeSync(fd);
  }
  const deadline = deps.clock.now() + 30_000;
  for (;;) {
    const client = await findSupervisor(paths);
    if (client && client.info.pid === pid) return client;
    if (exited || pid === 0) {
      const tail = await tailOf(paths.supervisorLog);
      const reason = /setopsd supervisor failed to start: (.*)$/m.exec(tail)?.[1];
      throw new EngineError(`stage ${stageKey(ref)}: the local stage supervisor exited at start${reason ? `: ${reason.slice(0, 200)}` : ''}; see ${paths.supervisorLog}`, { code: 'E_LOCAL_START', data: { tail } });
    }
    if (deps.clock.now() > deadline) throw new EngineError(`stage ${stageKey(ref)}: the local stage supervisor did not answer within 30 s; see ${paths.supervisorLog}`, { code: 'E_LOCAL_START' });
    await deps.sleep(50, signal);
  }
}

async function acquireStartLock(file: string, label: string, deps: LocalDeps, signal: AbortSignal): Promise<() => Promise<void>> {
  const deadline = deps.clock.now() + 60_000;
  for (;;) {
    try {
      const fh = await open(file, 'wx', 0o600);
      await fh.writeFile(String(process.pid));
      await fh.close();
      return () => rm(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    const age = deps.clock.now() - ((await stat(file).catch(() => null))?.mtimeMs ?? 0);
    if (holder ? !(await isRunning(holder)) : age > 5000) {
      await rm(file, { force: true });
      continue;
    }
    if (deps.clock.now() > deadline) {
      throw new EngineError(`stage ${label}: the supervisor start lock ${file} is held by pid ${holder} for over 60 s; if that process is stuck, stop it and apply again`, { code: 'E_LOCKED' });
    }
    await deps.sleep(100, signal);
  }
}
