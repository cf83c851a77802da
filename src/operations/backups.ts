import type { Deps } from '../deps.js';
import { EngineError, PlanError, SetopsError, UsageError } from '../errors.js';
import { stageKey, type ServiceModel, type StageModel, type StageRef } from '../model/stage-model.js';
import { createLocalBackup, listLocalBackups, pruneLocalBackups, restoreLocalBackup, type BackupRecord } from '../providers/local/backups/index.js';
import { backupFailedNotice } from '../providers/notify/notices.js';
import type { Notifier } from '../providers/notify/notifier.js';
import { secretsFor } from '../providers/registry.js';
import { acquireStageLock } from '../state/lock.js';
import { StateStore } from '../state/store.js';

export type { BackupRecord } from '../providers/local/backups/index.js';

/** One service of a deployed stage. */
export interface BackupRequest {
  stateDir: string;
  ref: StageRef;
  service: string;
  /** Where the manifests live (the Organization's relative `secrets.file`); default: the state dir's parent. */
  configRoot: string;
  secretsFile?: string;
}

/** The recorded model of the stage and the service in it; E_NOT_DEPLOYED / E_UNSUPPORTED otherwise. */
async function deployedService(req: BackupRequest): Promise<{ model: StageModel; service: ServiceModel }> {
  const model = (await new StateStore(req.stateDir).read(req.ref)).model;
  if (model === null) throw new EngineError(`stage ${stageKey(req.ref)} is not deployed; apply it first`, { code: 'E_NOT_DEPLOYED' });
  const service = model.services[req.service];
  if (service === undefined) {
    const known = Object.keys(model.services).sort();
    throw new EngineError(`stage ${stageKey(req.ref)} has no service ${req.service}; ${known.length ? `its services: ${known.join(', ')}` : 'it has no services'}`, { code: 'E_NOT_DEPLOYED' });
  }
  if (model.organization.provider !== 'local') {
    throw new EngineError(`service/${req.service} in ${stageKey(req.ref)}: backups of ${model.organization.provider} stages are not available from setopsd yet; use the provider's snapshots`, { code: 'E_UNSUPPORTED' });
  }
  return { model, service };
}

/**
 * Backs up one service of a deployed stage, then prunes its backups past `retentionDays` (the
 * newest completed one always stays). A failure is recorded as a `failed` backup, logged,
 * counted, sent to the stage's notifications (`backup.failed`) and thrown.
 */
export async function createBackup(deps: Deps, req: BackupRequest & { trigger: string; notifier?: Notifier }, signal: AbortSignal): Promise<{ backup: BackupRecord; pruned: string[] }> {
  const { model, service } = await deployedService(req);
  let backup: BackupRecord;
  try {
    backup = await createLocalBackup({ stateDir: req.stateDir, ref: req.ref, service: req.service, model: service, deps, signal }, req.trigger);
  } catch (err) {
    const error = err instanceof SetopsError ? err : new EngineError(String(err), { code: 'E_BACKUP_FAILED' });
    const failed = (err as { backup?: BackupRecord }).backup;
    deps.log.error({ stage: stageKey(req.ref), service: req.service, backup: failed?.id, code: error.code }, `backup of service/${req.service} in ${stageKey(req.ref)} failed: ${error.message}`);
    req.notifier?.notify(
      model,
      backupFailedNotice(req.ref, { service: req.service, id: failed?.id ?? '-', code: error.code, message: error.message }, deps.clock.now()),
      secretsFor(model.organization, { ...(req.secretsFile ? { secretsFile: req.secretsFile } : {}), configRoot: req.configRoot, env: deps.env }),
    );
    throw error;
  }
  const pruned = await pruneLocalBackups(req.stateDir, req.ref, req.service, service.backup.retentionDays, deps.clock.now());
  return { backup, pruned };
}

/** The backups of one service, newest first. */
export async function listBackups(req: BackupRequest): Promise<BackupRecord[]> {
  await deployedService(req);
  return listLocalBackups(req.stateDir, req.ref, req.service);
}

/** What a restore did. */
export interface RestoreOutcome {
  restored: BackupRecord;
  /** The backup of the data the restore replaced (restore it to undo). */
  safety: BackupRecord;
  /** Services whose data the restore replaced (postgresql: every postgresql service of the stage). */
  affected: string[];
}

/**
 * Replaces a service's data with a backup (default: the newest completed one). Data loss by
 * definition: refused without `allowDataLoss` (on a protected stage the refusal says so). Under
 * the stage lock (no apply runs meanwhile), first a `pre-restore` backup of the current data is
 * taken — the way back — then the backup's checksum is checked and it is restored.
 */
export async function restoreBackup(deps: Deps, req: BackupRequest & { id?: string; allowDataLoss: boolean; lockTimeoutMs: number }, signal: AbortSignal): Promise<RestoreOutcome> {
  const { model, service } = await deployedService(req);
  const key = stageKey(req.ref);
  const affected = service.type === 'postgresql' ? Object.entries(model.services).filter(([, s]) => s.type === 'postgresql').map(([n]) => n).sort() : [req.service];
  if (!req.allowDataLoss) {
    const what = `restoring a backup replaces the current data of ${affected.map((s) => `service/${s}`).join(', ')} in ${key}`;
    if (model.stage.protected) throw new PlanError(`${what}, a protected stage: refused without --allow-data-loss`, { code: 'E_PROTECTED_STAGE' });
    throw new PlanError(`${what}; pass --allow-data-loss to confirm (a pre-restore backup is taken first)`, { code: 'E_DATA_LOSS' });
  }
  if (req.id !== undefined && !/^[0-9TZ]+-[0-9a-f]+$/.test(req.id)) throw new UsageError(`--id ${req.id}: not a backup id (see setopsd backup list ${key} ${req.service})`);
  const lock = await acquireStageLock(req.stateDir, req.ref, deps, { command: 'backup restore', timeoutMs: req.lockTimeoutMs, signal });
  try {
    const target = { stateDir: req.stateDir, ref: req.ref, service: req.service, model: service, deps, signal };
    // Find (and verify) the backup before anything else, so a wrong id changes nothing.
    const chosen = (await listLocalBackups(req.stateDir, req.ref, req.service)).find((b) => b.status === 'completed' && (req.id === undefined || b.id === req.id));
    if (chosen === undefined) await restoreLocalBackup(target, req.id); // throws E_BACKUP_NOT_FOUND with the known ids
    const safety = await createLocalBackup(target, 'pre-restore');
    const restored = await restoreLocalBackup(target, chosen!.id);
    deps.log.warn({ stage: key, service: req.service, backup: restored.id, safety: safety.id }, `service/${req.service} in ${key}: restored backup ${restored.id}; the data before is in backup ${safety.id}`);
    return { restored, safety, affected };
  } finally {
    await lock.release();
  }
}
