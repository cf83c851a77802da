import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError, SetopsError } from '../../../errors.js';
import { stageKey, type ServiceModel, type ServiceType, type StageRef } from '../../../model/stage-model.js';
import type { LocalDeps } from '../local-deps.js';
import type { ServiceBackups } from '../../backups.js';
import { localPaths } from '../paths.js';
import { directoryBackup } from './directory.js';
import type { BackupMethod, ServiceBackupContext } from './method.js';
import { postgresBackup } from './postgres.js';
import { redisBackup } from './redis.js';
import { BackupStore, newBackupId, sha256File, type BackupRecord } from './store.js';

export type { BackupRecord } from './store.js';
export { BackupStore } from './store.js';

const METHODS: Partial<Record<ServiceType, BackupMethod>> = {
  postgresql: postgresBackup,
  redis: redisBackup,
  s3: directoryBackup,
  volume: directoryBackup,
};

/** One service of a stage on the local engine, for a backup or restore. */
export interface LocalBackupTarget {
  stateDir: string;
  ref: StageRef;
  service: string;
  model: ServiceModel;
  deps: LocalDeps;
  signal: AbortSignal;
}

function context(t: LocalBackupTarget): { ctx: ServiceBackupContext; method: BackupMethod; store: BackupStore } {
  const subject = `service/${t.service} in ${stageKey(t.ref)}`;
  const method = METHODS[t.model.type];
  if (method === undefined) throw new EngineError(`${subject}: the local engine cannot back up ${t.model.type} services`, { code: 'E_UNSUPPORTED' });
  return { ctx: { ref: t.ref, service: t.service, model: t.model, paths: localPaths(t.stateDir, t.ref), deps: t.deps, signal: t.signal, subject }, method, store: new BackupStore(t.stateDir, t.ref) };
}

/**
 * Takes a backup: a `running` record first, then the type's method writes the data file, then
 * the record is `completed` with size and sha256 — or `failed` with the error (and the partial
 * file removed), which is then thrown. A failed backup is never silent: its record stays for
 * `backup list`, and the caller notifies.
 */
export async function createLocalBackup(t: LocalBackupTarget, trigger: string): Promise<BackupRecord> {
  const { ctx, method, store } = context(t);
  const id = newBackupId(t.deps.clock.now());
  let record: BackupRecord = {
    formatVersion: 1,
    id,
    service: t.service,
    type: t.model.type,
    status: 'running',
    trigger,
    method: method.method,
    startedAt: new Date(t.deps.clock.now()).toISOString(),
    file: join(store.serviceDir(t.service), `${id}.${method.ext}`),
  };
  await store.write(record);
  try {
    await method.create(ctx, record.file);
    const size = (await stat(record.file)).size;
    record = { ...record, status: 'completed', endedAt: new Date(t.deps.clock.now()).toISOString(), size, sha256: await sha256File(record.file) };
    await store.write(record);
    return record;
  } catch (err) {
    const error = err instanceof SetopsError ? err : new EngineError(`${ctx.subject}: backup failed: ${(err as Error).message}`, { code: 'E_BACKUP_FAILED', cause: err });
    await rm(record.file, { force: true });
    record = { ...record, status: 'failed', endedAt: new Date(t.deps.clock.now()).toISOString(), error: { code: error.code, message: error.message } };
    await store.write(record);
    throw Object.assign(error, { backup: record });
  }
}

/** Restores a completed backup (default: the newest) after checking its checksum; returns it. */
export async function restoreLocalBackup(t: LocalBackupTarget, id: string | undefined): Promise<BackupRecord> {
  const { ctx, method, store } = context(t);
  const record = await store.find(t.service, ctx.subject, id);
  await store.verify(record, ctx.subject);
  try {
    await method.restore(ctx, record.file);
  } catch (err) {
    if (err instanceof SetopsError) throw err;
    throw new EngineError(`${ctx.subject}: restore of backup ${record.id} failed: ${(err as Error).message}`, { code: 'E_RESTORE_FAILED', cause: err });
  }
  return record;
}

/** The backups of a service, newest first. */
export function listLocalBackups(stateDir: string, ref: StageRef, service: string): Promise<BackupRecord[]> {
  return new BackupStore(stateDir, ref).list(service);
}

/** Removes backups past the service's retention (the newest completed one always stays). */
export function pruneLocalBackups(stateDir: string, ref: StageRef, service: string, retentionDays: number, now: number): Promise<string[]> {
  return new BackupStore(stateDir, ref).prune(service, retentionDays, now);
}

/** The local backups of one service behind the provider-neutral `ServiceBackups` (restore stays `restoreLocalBackup`: it replaces data). */
export function localServiceBackups(t: Omit<LocalBackupTarget, 'signal'>): ServiceBackups {
  return {
    create: (trigger, signal) => createLocalBackup({ ...t, signal }, trigger),
    list: () => listLocalBackups(t.stateDir, t.ref, t.service),
    prune: (retentionDays, now) => pruneLocalBackups(t.stateDir, t.ref, t.service, retentionDays, now),
  };
}
