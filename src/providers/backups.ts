/**
 * The backups of one service of a deployed stage, whatever takes them: the local engine's own
 * (archives, base backups and RDB snapshots under the state directory) or the provider's
 * snapshots (AWS: RDS, DocumentDB and ElastiCache manual snapshots). `src/operations/backups.ts`
 * sees only this interface.
 */
import type { ServiceType } from '../model/stage-model.js';

/** One backup as listed and created. Never holds a secret. */
export interface Backup {
  /** Local: `20260102T030405Z-1a2b3c`; AWS: the snapshot identifier. */
  id: string;
  service: string;
  type: ServiceType;
  status: 'running' | 'completed' | 'failed';
  /** What took it: `manual` (backup create), `schedule` (the daemon), `pre-restore`; AWS: `automated`, `final`. */
  trigger: string;
  /** How it was taken, e.g. `redis BGSAVE`, `RDS manual snapshot`. */
  method: string;
  /** ISO times. */
  startedAt: string;
  endedAt?: string;
  /** Local: the data file. */
  file?: string;
  /** AWS: the snapshot's ARN. */
  arn?: string;
  /** Bytes (local: of the data file) or, for RDS and DocumentDB, GiB of storage as `sizeGiB`. */
  size?: number;
  sizeGiB?: number;
  sha256?: string;
  /** AWS: the provider's own status word (`creating`, `available`, …) and progress. */
  providerStatus?: string;
  percentProgress?: number;
  error?: { code: string; message: string };
}

/** The backups of one service. */
export interface ServiceBackups {
  /** Takes a backup now. Throws an EngineError (`E_BACKUP_FAILED`, or the provider's call code) when it cannot. */
  create(trigger: string, signal: AbortSignal): Promise<Backup>;
  /** Every backup, newest first. */
  list(signal: AbortSignal): Promise<Backup[]>;
  /**
   * Removes the backups this implementation took that are older than `retentionDays` (the
   * newest completed one always stays); returns their ids.
   */
  prune(retentionDays: number, now: number, signal: AbortSignal): Promise<string[]>;
}

/** How to restore a provider's snapshot by hand (AWS: into a new resource); nothing has changed yet. */
export interface RestorePlan {
  snapshot: Backup;
  /** The resource the commands create. */
  into: string;
  /** Shell commands, in order. */
  commands: string[];
  /** What to do after, in words. */
  then: string[];
}

/** The backups of a service on a provider whose restore is a plan a person carries out. */
export interface PlannedRestoreBackups extends ServiceBackups {
  /** The plan for restoring `id` (default: the newest completed snapshot); E_BACKUP_NOT_FOUND with the known ids otherwise. */
  restorePlan(id: string | undefined, signal: AbortSignal): Promise<RestorePlan>;
}
