import type { Deps } from '../deps.js';
import { EngineError, PlanError, SetopsError, UsageError } from '../errors.js';
import { stageKey, type OrganizationModel, type ServiceModel, type StageModel, type StageRef } from '../model/stage-model.js';
import type { Backup, PlannedRestoreBackups, RestorePlan, ServiceBackups } from '../providers/backups.js';
import type { Engine } from '../providers/engine.js';
import { createLocalBackup, listLocalBackups, localServiceBackups, restoreLocalBackup, type BackupRecord } from '../providers/local/backups/index.js';
import { backupFailedNotice } from '../providers/notify/notices.js';
import type { Notifier } from '../providers/notify/notifier.js';
import { engineFor, secretsFor } from '../providers/registry.js';
import { acquireStageLock } from '../state/lock.js';
import { StateStore } from '../state/store.js';

export type { BackupRecord } from '../providers/local/backups/index.js';
export type { Backup, RestorePlan } from '../providers/backups.js';

/** One service of a deployed stage. */
export interface BackupRequest {
  stateDir: string;
  ref: StageRef;
  service: string;
  /** Where the manifests live (the Organization's relative `secrets.file`); default: the state dir's parent. */
  configRoot: string;
  secretsFile?: string;
  /** The engine of a non-local organization (tests: one with fake AWS endpoints); default the registry. */
  engineOf?: (organization: OrganizationModel) => Promise<Engine>;
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
  return { model, service };
}

/**
 * The backups of the service: the local engine's own, or the stage engine's (AWS: snapshots),
 * both behind `ServiceBackups`.
 */
async function backupsOf(deps: Deps, req: BackupRequest, model: StageModel, service: ServiceModel, signal: AbortSignal): Promise<{ local: true; backups: ServiceBackups } | { local: false; backups: PlannedRestoreBackups }> {
  if (model.organization.provider === 'local') return { local: true, backups: localServiceBackups({ stateDir: req.stateDir, ref: req.ref, service: req.service, model: service, deps }) };
  const engine = await (req.engineOf ?? ((org) => engineFor(org, { stateDir: req.stateDir, deps })))(model.organization);
  if (engine.backups === undefined) throw new EngineError(`service/${req.service} in ${stageKey(req.ref)}: the ${engine.name} engine takes no backups`, { code: 'E_UNSUPPORTED' });
  return { local: false, backups: await engine.backups(req.ref, req.service, service, signal) };
}

/**
 * Backs up one service of a deployed stage, then prunes its backups past `retentionDays` (the
 * newest completed one always stays). A failure is recorded as a `failed` backup, logged,
 * counted, sent to the stage's notifications (`backup.failed`) and thrown.
 */
export async function createBackup(deps: Deps, req: BackupRequest & { trigger: string; notifier?: Notifier }, signal: AbortSignal): Promise<{ backup: Backup; pruned: string[] }> {
  const { model, service } = await deployedService(req);
  let backup: Backup;
  let backups: ServiceBackups | undefined;
  try {
    backups = (await backupsOf(deps, req, model, service, signal)).backups;
    backup = await backups.create(req.trigger, signal);
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
  const pruned = await backups.prune(service.backup.retentionDays, deps.clock.now(), signal);
  return { backup, pruned };
}

/** The backups of one service, newest first (AWS: its manual, automated and final snapshots with their status). */
export async function listBackups(deps: Deps, req: BackupRequest, signal: AbortSignal): Promise<Backup[]> {
  const { model, service } = await deployedService(req);
  return (await backupsOf(deps, req, model, service, signal)).backups.list(signal);
}

/** What a restore did: replaced the data (local), or, where a person restores (AWS), the plan. */
export type RestoreOutcome = ({ kind: 'restored' } & LocalRestore) | { kind: 'planned'; plan: RestorePlan };

/** What a local restore did. */
export interface LocalRestore {
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
 * taken — the way back — then the backup's checksum is checked and it is restored. On AWS the
 * restore is a plan (`RestorePlan`: a new resource from the snapshot) and nothing changes.
 */
export async function restoreBackup(deps: Deps, req: BackupRequest & { id?: string; allowDataLoss: boolean; lockTimeoutMs: number }, signal: AbortSignal): Promise<RestoreOutcome> {
  const { model, service } = await deployedService(req);
  const key = stageKey(req.ref);
  if (model.organization.provider !== 'local') {
    // A plan changes nothing: no --allow-data-loss needed to see it.
    const of = await backupsOf(deps, req, model, service, signal);
    if (!of.local) return { kind: 'planned', plan: await of.backups.restorePlan(req.id, signal) };
  }
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
    return { kind: 'restored', restored, safety, affected };
  } finally {
    await lock.release();
  }
}
