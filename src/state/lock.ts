import { link, mkdir, readFile, readdir, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Deps } from '../deps.js';
import { LockedError, throwIfAborted } from '../errors.js';
import { stageKey, type StageRef } from '../model/stage-model.js';
import { pidAlive } from '../pid.js';
import { LOCK_FILE, stageDir } from './paths.js';

/** Content of `<stageDir>/lock`. */
export interface LockInfo {
  pid: number;
  host: string;
  /** ISO time from `deps.clock`. */
  startedAt: string;
  /** What holds the stage, e.g. `apply`, `destroy`, `daemon`. */
  command: string;
}

/** A held stage lock. `release` is idempotent and only removes the lock if it is still ours. */
export interface StageLock {
  readonly info: LockInfo;
  readonly path: string;
  /** The lock of a dead process that was taken over, if any (null: the lock file was unreadable). */
  readonly tookOver?: LockInfo | null;
  release(): Promise<void>;
}

export interface AcquireOptions {
  command: string;
  /** How long to wait for another holder, in ms; 0 fails at once. */
  timeoutMs: number;
  /** Poll interval while waiting, in ms. */
  pollMs?: number;
  signal?: AbortSignal;
  /** Is this pid alive on this host (replaced in tests). */
  isAlive?: (pid: number) => boolean;
}

/**
 * Takes the lock of one stage. The lock file appears with its full content in one step (written
 * to a private temp file, then hard-linked to `lock`, which fails if it exists — the same
 * guarantee as `O_EXCL`, without a window where the file is empty). A lock whose process is dead
 * on this host is taken over (logged). Otherwise waits up to `timeoutMs`, then throws LockedError.
 */
export async function acquireStageLock(
  stateDir: string,
  ref: StageRef,
  deps: Pick<Deps, 'clock' | 'sleep' | 'log'>,
  opts: AcquireOptions,
): Promise<StageLock> {
  const key = stageKey(ref);
  return acquireLockFile(join(stageDir(stateDir, ref), LOCK_FILE), deps, opts, {
    subject: `stage ${key}`,
    logData: { stage: key },
    locked: (holder) =>
      new LockedError(
        `stage ${key} is locked by PID ${holder.pid} on ${holder.host} since ${holder.startedAt} (${holder.command}); ` +
          `wait for it to finish, or pass --lock-timeout SECONDS to wait`,
        { data: { stage: key, holder } },
      ),
  });
}

/** How a lock names what it guards, in logs and in the error for a live holder. */
export interface LockSubject {
  /** `stage acme/shop/staging`, `the state directory /srv/state`. */
  subject: string;
  logData: Record<string, unknown>;
  locked: (holder: LockInfo) => Error;
}

/** The lock-file protocol of `acquireStageLock` for any lock file (the daemon's one-per-state-directory lock). */
export async function acquireLockFile(path: string, deps: Pick<Deps, 'clock' | 'sleep' | 'log'>, opts: AcquireOptions, what: LockSubject): Promise<StageLock> {
  const dir = dirname(path);
  const isAlive = opts.isAlive ?? pidAlive;
  const pollMs = opts.pollMs ?? 250;
  const deadline = deps.clock.now() + Math.max(0, opts.timeoutMs);
  await mkdir(dir, { recursive: true });
  await removeDeadTemps(dir, basename(path), isAlive);
  let tookOver: LockInfo | null | undefined;
  for (;;) {
    throwIfAborted(opts.signal);
    const info: LockInfo = {
      pid: process.pid,
      host: hostname(),
      startedAt: new Date(deps.clock.now()).toISOString(),
      command: opts.command,
    };
    const text = JSON.stringify(info) + '\n';
    if (await createExclusive(path, text)) {
      let released = false;
      return {
        info,
        path,
        ...(tookOver !== undefined ? { tookOver } : {}),
        release: async () => {
          if (released) return;
          released = true;
          // Only remove the lock if it still holds our content (never someone else's).
          const now = await readFile(path, 'utf8').catch(() => null);
          if (now === text) await unlink(path).catch(() => {});
        },
      };
    }
    const holderText = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    if (holderText === null) continue; // released between our attempt and the read
    const holder = parseLock(holderText);
    if (holder === null || (holder.host === hostname() && !isAlive(holder.pid))) {
      // Stale: compare-and-remove, so we never remove a lock someone else just took over.
      const again = await readFile(path, 'utf8').catch(() => null);
      if (again === holderText) {
        await unlink(path).catch(() => {});
        tookOver = holder;
        deps.log.info(
          { ...what.logData, holder },
          `${what.subject}: taking over the lock of ${holder ? `PID ${holder.pid} (${holder.command}), which is gone` : 'an unreadable lock file'}`,
        );
      }
      continue;
    }
    if (deps.clock.now() >= deadline) throw what.locked(holder);
    await deps.sleep(Math.min(pollMs, Math.max(1, deadline - deps.clock.now())), opts.signal);
  }
}

/** Reads the lock of a stage without taking it (status output); null when unlocked. */
export async function readStageLock(stateDir: string, ref: StageRef): Promise<LockInfo | null> {
  return readLockFile(join(stageDir(stateDir, ref), LOCK_FILE));
}

/** Reads any lock file without taking it; null when absent or unreadable. */
export async function readLockFile(path: string): Promise<LockInfo | null> {
  const text = await readFile(path, 'utf8').catch(() => null);
  return text === null ? null : parseLock(text);
}

async function createExclusive(path: string, text: string): Promise<boolean> {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await writeFile(tmp, text, { mode: 0o644 });
  } catch (err) {
    // Disk full or read-only: leave no half-written temp, and name the lock in the error.
    await unlink(tmp).catch(() => {});
    const e = err as NodeJS.ErrnoException;
    if (typeof e?.code === 'string' && e.path === undefined) e.path = path;
    throw err;
  }
  try {
    await link(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

/** Temp files of lock attempts by processes that died between writing and linking them. */
async function removeDeadTemps(dir: string, file: string, isAlive: (pid: number) => boolean): Promise<void> {
  const temp = new RegExp(`^${file.replace(/[.]/g, '\\.')}\\.(\\d+)\\.[a-z0-9]+\\.tmp$`);
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const m = temp.exec(name);
    if (m && Number(m[1]) !== process.pid && !isAlive(Number(m[1]))) await unlink(join(dir, name)).catch(() => {});
  }
}

function parseLock(text: string): LockInfo | null {
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    if (typeof v.pid !== 'number' || typeof v.host !== 'string') return null;
    return { pid: v.pid, host: v.host, startedAt: String(v.startedAt ?? '?'), command: String(v.command ?? '?') };
  } catch {
    return null;
  }
}
