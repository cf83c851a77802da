import { readFile, readdir, readlink, realpath } from 'node:fs/promises';
import { createServer } from 'node:net';
import { pidAlive } from '../../pid.js';
import type { Timing } from './local-deps.js';

/**
 * The fields of /proc/PID/stat after the command name (which may hold spaces and parentheses):
 * [0] is the state, [2] the process group, [19] the start time; null when it cannot be read.
 */
async function statFields(pid: number): Promise<string[] | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** Whether the process exists and is not a zombie (Linux: reads /proc/PID/stat). */
export async function isRunning(pid: number): Promise<boolean> {
  if (!pidAlive(pid)) return false;
  const fields = await statFields(pid);
  if (fields === null) return pidAlive(pid);
  return fields[0] !== 'Z' && fields[0] !== 'X';
}

/** The initial environment of a process, or null when it cannot be read. */
export async function environOf(pid: number): Promise<Record<string, string> | null> {
  try {
    const raw = await readFile(`/proc/${pid}/environ`, 'utf8');
    const env: Record<string, string> = {};
    for (const entry of raw.split('\0')) {
      const eq = entry.indexOf('=');
      if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
    return env;
  } catch {
    return null;
  }
}

/** The command line of a process, or null. */
export async function cmdlineOf(pid: number): Promise<string[] | null> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((s) => s !== '');
  } catch {
    return null;
  }
}

/** Sends a signal to a process group (negative pid), falling back to the process itself. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Waits until `pid` is gone (or a zombie), polling; false when `timeoutMs` passed first. */
export async function waitGone(pid: number, timeoutMs: number, deps: Timing): Promise<boolean> {
  const deadline = deps.clock.now() + timeoutMs;
  for (;;) {
    if (!(await isRunning(pid))) return true;
    if (deps.clock.now() >= deadline) return false;
    await deps.sleep(50);
  }
}

/** SIGTERM to the process group, then SIGKILL after `graceMs` when it is still there. */
export async function terminateGroup(pid: number, graceMs: number, deps: Timing): Promise<void> {
  signalGroup(pid, 'SIGTERM');
  if (await waitGone(pid, graceMs, deps)) return;
  signalGroup(pid, 'SIGKILL');
  await waitGone(pid, 5000, deps);
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** The pids in /proc apart from init and this process; none when /proc cannot be read. */
async function otherPids(): Promise<number[]> {
  const names = await readdir('/proc').catch(() => [] as string[]);
  return names.map(Number).filter((pid) => Number.isInteger(pid) && pid > 1 && pid !== process.pid);
}

/**
 * Live processes whose environment holds `key=value` (Linux: scans /proc). This finds every
 * process a supervisor of a stage started, even one it had no time to record.
 */
export async function findMarked(key: string, value: string): Promise<{ pid: number; role: string }[]> {
  const out: { pid: number; role: string }[] = [];
  for (const pid of await otherPids()) {
    const env = await environOf(pid);
    if (env !== null && env[key] === value && (await isRunning(pid))) out.push({ pid, role: env.SETOPSD_LOCAL_ROLE ?? '' });
  }
  return out.sort((a, b) => a.pid - b.pid);
}

/** The process group of a process (Linux: /proc/PID/stat), or 0. */
export async function groupOf(pid: number): Promise<number> {
  return Number((await statFields(pid))?.[2]) || 0;
}

/** The working directory of a process (Linux: /proc/PID/cwd), or null. */
export async function cwdOf(pid: number): Promise<string | null> {
  try {
    return await readlink(`/proc/${pid}/cwd`);
  } catch {
    return null;
  }
}

/**
 * Live processes running `program` whose working directory is `dir` or below it. redis-server
 * overwrites its environment for its process title, so its owner marker cannot be read: it is
 * recognised by its working directory (its data directory) instead.
 */
export async function findByCwd(program: string, dirGiven: string): Promise<{ pid: number; cwd: string }[]> {
  // /proc/PID/cwd is the resolved path.
  const dir = await realpath(dirGiven).catch(() => dirGiven);
  const out: { pid: number; cwd: string }[] = [];
  for (const pid of await otherPids()) {
    const cwd = await cwdOf(pid);
    if (cwd === null || (cwd !== dir && !cwd.startsWith(`${dir}/`))) continue;
    const cmd = await cmdlineOf(pid);
    if (cmd !== null && cmd.some((a) => a.includes(program)) && (await isRunning(pid))) out.push({ pid, cwd: dirGiven + cwd.slice(dir.length) });
  }
  return out.sort((a, b) => a.pid - b.pid);
}

/** When a process started (clock ticks since boot, /proc/PID/stat field 22), or null. With the pid it identifies one process. */
export async function startTimeOf(pid: number): Promise<number | null> {
  const fields = await statFields(pid);
  const v = Number(fields?.[19]);
  return fields !== null && Number.isFinite(v) ? v : null;
}

/**
 * Whether a recorded process is still the one that was recorded: it carries the owner marker, or
 * (for programs that overwrite their environment) it has the recorded start time.
 */
export async function isRecordedProcess(r: { pid: number; start?: number }, key: string, value: string): Promise<boolean> {
  if (!(await isRunning(r.pid))) return false;
  if ((await environOf(r.pid))?.[key] === value) return true;
  return r.start !== undefined && (await startTimeOf(r.pid)) === r.start;
}

/** Whether something listens on 127.0.0.1:`port` now (a bind to it fails with EADDRINUSE). */
export function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE'));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(false)));
  });
}
