import { mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { StageRef } from '../model/stage-model.js';
import { writeFileAtomic } from './atomic.js';
import { stageDir } from './paths.js';

/**
 * One run of a task, `<stageDir>/tasks/<id>.json`: one-off runs (`setopsd task run`), the local
 * supervisor's scheduled runs, and AWS scheduled runs as `task list` or the daemon read them from
 * ECS. Never holds a secret value.
 */
export interface TaskRecord {
  formatVersion: 1;
  id: string;
  app: string;
  /** argv as given, secret values of the app replaced by `(secret NAME)`. */
  command: string[];
  /** Keys of `--env` overrides (their values are not recorded). */
  envKeys: string[];
  /** `cli USER@HOST`, `schedule NAME` (local supervisor), `schedule NAME (EventBridge Scheduler)`. */
  startedBy: string;
  status: 'running' | 'succeeded' | 'failed';
  exitCode: number | null;
  signal: string | null;
  stopped?: 'canceled' | 'timeout';
  /** Why the provider stopped it, in its words (AWS scheduled runs: ECS's stoppedReason, or that it was stopped after its timeout). */
  reason?: string;
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  log: string;
  /**
   * When the daemon handed this failed scheduled run to the stage's notifications (also when no
   * target wants `task.failed`), so it is handled once.
   */
  notifiedAt?: string;
}

/** Records kept per stage: the newest ones; older ones are removed when a run is recorded. */
export const TASK_RECORDS_KEPT = 500;

/** The tasks directory of a stage. */
export function tasksDir(stateDir: string, ref: StageRef): string {
  return tasksDirIn(stageDir(stateDir, ref));
}

/** Same as `tasksDir`, from the stage directory itself (the supervisor only knows that). */
export function tasksDirIn(dir: string): string {
  return join(dir, 'tasks');
}

/** A record id: the start time to the second (so names sort by time) and a random suffix. */
export function taskRecordId(startedAt: number, suffix: string): string {
  return `${new Date(startedAt).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${suffix}`;
}

/** Writes a record atomically (readers see the old or the new one), 0600 in a 0700 directory. */
export async function writeTaskRecord(dir: string, record: TaskRecord): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(dir, `${record.id}.json`), JSON.stringify(record, null, 2) + '\n', 0o600);
}

/** One record by id; null when there is none (or it cannot be read). */
export async function readTaskRecord(dir: string, id: string): Promise<TaskRecord | null> {
  try {
    return JSON.parse(await readFile(join(dir, `${id}.json`), 'utf8')) as TaskRecord;
  } catch {
    return null;
  }
}

/**
 * The records of a tasks directory, newest first; with `modifiedSince` (ms), only those written
 * at or after that time (a stat each instead of a read: the daemon's checks skip what they saw).
 */
export async function readTaskRecords(dir: string, opts: { modifiedSince?: number } = {}): Promise<TaskRecord[]> {
  const names = (await recordFiles(dir)).reverse();
  const out: TaskRecord[] = [];
  for (const n of names) {
    try {
      if (opts.modifiedSince !== undefined && (await stat(join(dir, n))).mtimeMs < opts.modifiedSince) continue;
      out.push(JSON.parse(await readFile(join(dir, n), 'utf8')) as TaskRecord);
    } catch {
      // being replaced right now
    }
  }
  // Ids carry seconds only: the start time (milliseconds) orders runs of the same second.
  return out.sort((a, b) => (a.startedAt === b.startedAt ? (a.id < b.id ? 1 : -1) : a.startedAt < b.startedAt ? 1 : -1));
}

/**
 * Keeps the newest `keep` records of a tasks directory (by id, which starts with the start time)
 * and removes the rest, so a schedule running every minute does not fill the disk. Returns how
 * many were removed; a record another process removed first is not an error.
 */
export async function pruneTaskRecords(dir: string, keep = TASK_RECORDS_KEPT): Promise<number> {
  const names = await recordFiles(dir);
  const old = names.slice(0, Math.max(0, names.length - keep));
  let removed = 0;
  for (const n of old) await unlink(join(dir, n)).then(() => removed++, () => {});
  return removed;
}

/** The record files of a tasks directory, oldest first (ids start with the start time); none when it does not exist. */
async function recordFiles(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
}
