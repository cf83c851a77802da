import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from '../../../errors.js';
import type { ServiceType, StageRef } from '../../../model/stage-model.js';
import { writeFileAtomic } from '../../../state/atomic.js';
import { stageDir } from '../../../state/paths.js';

/** One backup of one service, `<stageDir>/backups/<service>/<id>.json`; its data is the file beside it. */
export interface BackupRecord {
  formatVersion: 1;
  id: string;
  service: string;
  type: ServiceType;
  status: 'running' | 'completed' | 'failed';
  /** What took it: `manual` (backup create), `schedule` (the daemon), `pre-restore`. */
  trigger: string;
  /** How it was taken, e.g. `postgresql base backup (pg_backup_start/pg_backup_stop)`, `redis BGSAVE`, `tar`. */
  method: string;
  /** ISO times. */
  startedAt: string;
  endedAt?: string;
  /** Absolute path of the data file. */
  file: string;
  /** Bytes of the data file and its sha256 (hex), when completed. */
  size?: number;
  sha256?: string;
  error?: { code: string; message: string };
}

/** Backup ids sort by time: `20260102T030405Z-1a2b3c`. */
export function newBackupId(now: number): string {
  return `${new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

/** The backups of one stage under its state directory. Records are replaced atomically. */
export class BackupStore {
  readonly dir: string;
  constructor(stateDir: string, ref: StageRef) {
    this.dir = join(stageDir(stateDir, ref), 'backups');
  }

  serviceDir(service: string): string {
    return join(this.dir, service);
  }

  async write(record: BackupRecord): Promise<void> {
    await mkdir(this.serviceDir(record.service), { recursive: true, mode: 0o700 });
    await writeFileAtomic(join(this.serviceDir(record.service), `${record.id}.json`), JSON.stringify(record, null, 2) + '\n', 0o600);
  }

  /** Every backup of a service, newest first. */
  async list(service: string): Promise<BackupRecord[]> {
    const names = await readdir(this.serviceDir(service)).catch(() => [] as string[]);
    const out: BackupRecord[] = [];
    for (const n of names.filter((n) => n.endsWith('.json')).sort().reverse()) {
      try {
        out.push(JSON.parse(await readFile(join(this.serviceDir(service), n), 'utf8')) as BackupRecord);
      } catch {
        // being replaced right now, or damaged: not listed
      }
    }
    // Ids carry seconds only: the start time (milliseconds) orders backups of the same second.
    return out.sort((a, b) => (a.startedAt === b.startedAt ? (a.id < b.id ? 1 : -1) : a.startedAt < b.startedAt ? 1 : -1));
  }

  /** A completed backup by id (default: the newest completed one); E_BACKUP_NOT_FOUND otherwise. */
  async find(service: string, subject: string, id?: string): Promise<BackupRecord> {
    const all = await this.list(service);
    const found = id === undefined ? all.find((b) => b.status === 'completed') : all.find((b) => b.id === id);
    if (found === undefined || found.status !== 'completed') {
      const known = all.filter((b) => b.status === 'completed').map((b) => b.id);
      throw new EngineError(
        `${subject}: ${id === undefined ? 'has no completed backup' : found ? `backup ${id} is ${found.status}, not restorable` : `has no backup ${id}`}; ${known.length ? `completed backups: ${known.slice(0, 5).join(', ')}` : 'create one with `setopsd backup create`'}`,
        { code: 'E_BACKUP_NOT_FOUND' },
      );
    }
    return found;
  }

  /** Checks a backup's file against its recorded size and checksum before it is used. */
  async verify(record: BackupRecord, subject: string): Promise<void> {
    const info = await stat(record.file).catch(() => null);
    if (info === null) throw new EngineError(`${subject}: the file of backup ${record.id} is missing (${record.file})`, { code: 'E_BACKUP_CORRUPT' });
    const sum = await sha256File(record.file);
    if (info.size !== record.size || sum !== record.sha256) {
      throw new EngineError(`${subject}: backup ${record.id} does not match its recorded checksum (${record.file}); it was changed or damaged, restore another one`, { code: 'E_BACKUP_CORRUPT' });
    }
  }

  /**
   * Deletes completed backups older than `retentionDays` (and failed records older than that),
   * always keeping the newest completed one: a retention that ran out must not leave nothing to
   * restore. Returns the ids removed.
   */
  async prune(service: string, retentionDays: number, now: number): Promise<string[]> {
    const all = await this.list(service);
    const newest = all.find((b) => b.status === 'completed');
    const cutoff = now - retentionDays * 86_400_000;
    const removed: string[] = [];
    for (const b of all) {
      if (b === newest || b.status === 'running' || Date.parse(b.startedAt) >= cutoff) continue;
      await rm(b.file, { force: true });
      await rm(join(this.serviceDir(service), `${b.id}.json`), { force: true });
      removed.push(b.id);
    }
    return removed;
  }
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
