/**
 * What the AWS backups need of one kind of database snapshot (RDS instance, DocumentDB cluster,
 * ElastiCache replication group): take one, list them, delete one, and the commands of a restore
 * into a new resource. Each kind is one file on its own SDK client.
 */
import type { Backup } from '../../backups.js';
import { CanceledError, EngineError } from '../../../errors.js';
import { awsCallCode } from '../../../error-codes.js';

/** One service's database and who asks. */
export interface SnapshotTarget {
  /** `service/database in acme/shop/production`. */
  subject: string;
  service: string;
  /** The RDS instance identifier, DocumentDB cluster identifier or ElastiCache replication group id. */
  resource: string;
  /** `acme/shop/production`, tagged on each snapshot. */
  stage: string;
  /** Instance class of the service's plan (without `.ha`), for a restore. */
  instanceClass?: string;
}

export interface SnapshotKind {
  /** `RDS manual snapshot`, … */
  readonly method: string;
  create(target: SnapshotTarget, id: string, trigger: string, signal: AbortSignal): Promise<Backup>;
  list(target: SnapshotTarget, signal: AbortSignal): Promise<Backup[]>;
  remove(target: SnapshotTarget, id: string, signal: AbortSignal): Promise<void>;
  /** The AWS CLI commands that restore `snapshot` into a new resource named `into`, with the current resource's network settings. */
  restoreCommands(target: SnapshotTarget, snapshot: Backup, into: string, signal: AbortSignal): Promise<string[]>;
}

/** Tag keys setopsd puts on the snapshots it takes. */
export const TRIGGER_TAG = 'setopsd:trigger';
export const STAGE_TAG = 'setopsd:stage';

/** Sends one SDK call; an SDK error becomes an EngineError naming the call and the permission, an abort a CanceledError. */
export async function awsCall<T>(target: SnapshotTarget, what: string, permission: string, signal: AbortSignal, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (err) {
    if (signal.aborted) throw new CanceledError(`${target.subject}: canceled during ${what}`, { cause: err });
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    throw new EngineError(`${target.subject}: ${what} failed: ${e.name}: ${e.message.replace(/\.$/, '')}; check the AWS credentials and the permission ${permission}`, {
      code: awsCallCode(e, 'E_AWS_BACKUP'),
      cause: err,
      data: { error: e.name, ...(e.$metadata?.httpStatusCode ? { status: e.$metadata.httpStatusCode } : {}) },
    });
  }
}

/** A status word of RDS, DocumentDB or ElastiCache as a backup status. */
export function backupStatus(word: string | undefined): Backup['status'] {
  if (word === 'available') return 'completed';
  if (word === 'failed' || word === 'incompatible-restore' || word === 'incompatible-network') return 'failed';
  return 'running';
}

/** The trigger of a listed snapshot: its tag, else what its type and name say. */
export function triggerOf(tags: { Key?: string | undefined; Value?: string | undefined }[] | undefined, type: string | undefined, id: string): string {
  const tagged = tags?.find((t) => t.Key === TRIGGER_TAG)?.Value;
  if (tagged) return tagged;
  if (type === 'automated' || type === 'system') return 'automated';
  return /-final-\d{14}$/.test(id) ? 'final' : 'manual';
}

/** Shell word: quoted when it holds more than the safe characters. */
export function sh(word: string): string {
  return /^[A-Za-z0-9_./:=@,+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
