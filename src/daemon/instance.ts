import { randomBytes } from 'node:crypto';
import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Deps } from '../deps.js';
import { LockedError, SetopsError } from '../errors.js';
import { writeFileAtomic } from '../state/atomic.js';
import { acquireLockFile, readLockFile, type StageLock } from '../state/lock.js';

/** `<state-dir>/daemon.json` (mode 0600): where the running daemon answers and the token its mutations need. */
export interface DaemonInfo {
  pid: number;
  host: string;
  url: string;
  token: string;
  startedAt: string;
  source: string;
}

export const DAEMON_LOCK = 'daemon.lock';
export const DAEMON_FILE = 'daemon.json';

/**
 * Claims the state directory for this daemon: one daemon per state directory. A second one is
 * refused with an error naming the first (PID, host, URL); the lock of a daemon that died is
 * taken over. The caller writes `daemon.json` once it listens (`publish`) and releases on exit.
 */
export async function claimStateDir(stateDir: string, deps: Pick<Deps, 'clock' | 'sleep' | 'log'>): Promise<{ lock: StageLock; token: string; publish(info: Omit<DaemonInfo, 'token' | 'pid' | 'host'>): Promise<void>; release(): Promise<void> }> {
  const lockPath = join(stateDir, DAEMON_LOCK);
  const file = join(stateDir, DAEMON_FILE);
  // Name the first daemon's URL too, when it published one.
  const published = (await readFile(file, 'utf8').then((t) => JSON.parse(t) as DaemonInfo).catch(() => null));
  const lock = await acquireLockFile(lockPath, deps, { command: 'daemon', timeoutMs: 0 }, {
    subject: `the state directory ${stateDir}`,
    logData: { stateDir },
    locked: (holder) => {
      const url = published?.pid === holder.pid ? `, ${published.url}` : '';
      return new LockedError(
        `another setopsd daemon runs on the state directory ${stateDir} (PID ${holder.pid} on ${holder.host} since ${holder.startedAt}${url}); stop it first, or give this one another --state-dir`,
        { data: { stateDir, holder, ...(url ? { url: published!.url } : {}) } },
      );
    },
  });
  const token = randomBytes(32).toString('hex');
  return {
    lock,
    token,
    publish: (info) => writeFileAtomic(file, JSON.stringify({ ...info, pid: lock.info.pid, host: lock.info.host, token }, null, 2) + '\n', 0o600),
    release: async () => {
      const now = await readDaemonInfo(stateDir).catch(() => null);
      if (now?.token === token) await unlink(file).catch(() => {});
      await lock.release();
    },
  };
}

/** The running daemon of a state directory, from `daemon.json`; null when none published one. */
export async function readDaemonInfo(stateDir: string): Promise<DaemonInfo | null> {
  const file = join(stateDir, DAEMON_FILE);
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw new SetopsError(`${file}: cannot read: ${err.code ?? err.message}; run the command as the user that runs the daemon`, { code: 'E_STATE_UNREADABLE' });
  });
  if (text === null) return null;
  const lock = await readLockFile(join(stateDir, DAEMON_LOCK));
  const info = JSON.parse(text) as DaemonInfo;
  // A daemon.json left by a daemon killed with SIGKILL: its lock is gone or someone else's.
  return lock !== null && lock.pid === info.pid ? info : null;
}
