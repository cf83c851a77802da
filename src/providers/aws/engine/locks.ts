/**
 * Stack locks of the file backend. Pulumi writes one `<uuid>.json` per running operation under
 * `.pulumi/locks/organization/<project>/<stack>/` holding `{pid, username, hostname, timestamp}`
 * and refuses to start while another exists. setopsd reads them to name the holder and to tell
 * a lock whose process is gone; it never removes one itself.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LockedError } from '../../../errors.js';
import { lockDirs, type StackLocation } from './backend.js';

/** One lock file and what it says about its holder. */
export interface StackLock {
  path: string;
  pid?: number;
  username?: string;
  hostname?: string;
  timestamp?: string;
  /** True when the holder ran on this host and its pid no longer runs. */
  stale: boolean;
}

/** How to tell whether a lock holder still runs (injected in tests). */
export interface HostProbe {
  hostname: string;
  isAlive(pid: number): boolean;
}

/** Lock files of the stack (file backend only), sorted by path. */
export async function readLocks(loc: StackLocation, probe: HostProbe): Promise<StackLock[]> {
  const root = loc.backend.root;
  if (loc.backend.kind !== 'file' || !root) return [];
  const out: StackLock[] = [];
  for (const dir of lockDirs(root, loc.project, loc.stack)) {
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      const path = join(dir, name);
      const lock: StackLock = { path, stale: false };
      try {
        const c = JSON.parse(await readFile(path, 'utf8')) as { pid?: number; username?: string; hostname?: string; timestamp?: string };
        if (typeof c.pid === 'number') lock.pid = c.pid;
        if (typeof c.username === 'string') lock.username = c.username;
        if (typeof c.hostname === 'string') lock.hostname = c.hostname;
        if (typeof c.timestamp === 'string') lock.timestamp = c.timestamp;
      } catch {
        // An unreadable lock still blocks Pulumi: report it without holder details.
      }
      lock.stale = lock.hostname === probe.hostname && lock.pid !== undefined && !probe.isAlive(lock.pid);
      out.push(lock);
    }
  }
  return out;
}

function holder(l: StackLock): string {
  const who = `${l.username ?? 'unknown user'}@${l.hostname ?? 'unknown host'}`;
  return `${who} (pid ${l.pid ?? '?'}${l.timestamp ? `, since ${l.timestamp}` : ''})`;
}

/** `pulumi <verb> --yes` for the stage's stack, runnable by hand from any directory (recovery hints). */
export function stackCommand(loc: StackLocation, verb: 'cancel' | 'refresh'): string {
  return `PULUMI_BACKEND_URL='${loc.backend.url}' pulumi ${verb} --yes --stack ${loc.qualifiedStack} --cwd '${loc.workDir}'`;
}

/**
 * A LockedError for a locked stack. With lock files at hand it names every holder; a lock whose
 * process is gone is reported with the exact command to clear it (never cleared here).
 */
export function lockedError(subject: string, loc: StackLocation, locks: readonly StackLock[], cause?: unknown): LockedError {
  const head = `${subject}: the Pulumi stack ${loc.project}/${loc.stack} is locked`;
  if (locks.length === 0) {
    return new LockedError(
      `${head} by another update; wait for it to finish, or if none runs, clear the lock with: ${stackCommand(loc, 'cancel')}`,
      { cause, data: { backend: loc.backend.url, stack: loc.qualifiedStack } },
    );
  }
  const stale = locks.filter((l) => l.stale);
  const parts = [`${head} by ${locks.map(holder).join(', ')}`];
  if (stale.length === locks.length) {
    parts.push(
      `; that process no longer runs on this host, so the lock was left by a crashed or killed run. ` +
        `Check that no other pulumi operation runs for this stack, then clear it with: ${stackCommand(loc, 'cancel')} ` +
        `(or remove ${stale.map((l) => l.path).join(' and ')})`,
    );
  } else {
    parts.push('; wait for that run to finish and retry');
  }
  return new LockedError(parts.join(''), {
    cause,
    data: {
      backend: loc.backend.url,
      stack: loc.qualifiedStack,
      locks: locks.map((l) => ({ path: l.path, pid: l.pid, username: l.username, hostname: l.hostname, timestamp: l.timestamp, stale: l.stale })),
    },
  });
}

/**
 * Lock holders as Pulumi prints them (`  <lock url>: created by user@host (pid N) at TIME`), for
 * backends whose lock files setopsd cannot read itself (s3 and other DIY buckets).
 */
export function locksFromMessage(stderr: string, probe: HostProbe): StackLock[] {
  const out: StackLock[] = [];
  const re = /^\s*(\S+): created by (.+?)@(\S+) \(pid (\d+)\) at (\S+)\s*$/gm;
  for (const m of stderr.matchAll(re)) {
    const pid = Number(m[4]);
    out.push({
      path: m[1]!,
      username: m[2]!,
      hostname: m[3]!,
      pid,
      timestamp: m[5]!,
      stale: m[3] === probe.hostname && !probe.isAlive(pid),
    });
  }
  return out;
}
