/**
 * Backups of AWS stages (`setopsd backup create|list|restore`): manual snapshots of the database
 * a service runs on — an RDS instance (postgresql), a DocumentDB cluster, an ElastiCache
 * replication group (redis) — named `<org>-<project>-<stage>-<service>-<yyyymmddhhmmss>` and
 * tagged with what took them. `list` shows the service's manual, automated and final snapshots
 * with their status; `prune` deletes the manual ones setopsd took (by name) past the service's
 * `backup.retentionDays`, the newest completed one always staying (automated ones follow the
 * database's own retention). A restore never touches the running service: it is a plan — the
 * AWS CLI commands that create a new resource from the snapshot with the service's network —
 * because the service's database is Pulumi's and a swap under it would be undone by the next apply.
 */
import type { Backup, PlannedRestoreBackups } from '../../backups.js';
import { EngineError } from '../../../errors.js';
import { stageKey, type ServiceModel, type StageRef } from '../../../model/stage-model.js';
import { snapshotIdentifier } from '../program/aws-names.js';
import type { AwsClientSettings } from '../engine/aws-config.js';
import type { SnapshotKind, SnapshotTarget } from './snapshot-kind.js';

/** Where a service's database is: its stack outputs (`services.<name>`). */
export interface AwsBackupTarget {
  ref: StageRef;
  service: string;
  model: ServiceModel;
  /** `services.<name>` of the stack outputs. */
  outputs: Record<string, unknown> | undefined;
  /** Client settings per service (region, endpoint override, credentials). */
  clients: (service: 'RDS' | 'DOCDB' | 'ELASTICACHE') => AwsClientSettings;
  now: () => number;
}

const RESOURCE_OUTPUT = { postgresql: 'dbInstanceIdentifier', documentdb: 'clusterIdentifier', redis: 'replicationGroupId' } as const;

/** The AWS backups of one service, and its restore plan. */
export async function awsServiceBackups(target: AwsBackupTarget): Promise<PlannedRestoreBackups> {
  const key = stageKey(target.ref);
  const subject = `service/${target.service} in ${key}`;
  const type = target.model.type;
  if (type !== 'postgresql' && type !== 'documentdb' && type !== 'redis') {
    throw new EngineError(`${subject}: ${type} services have no snapshots setopsd takes on AWS; ${type === 's3' ? 'use S3 versioning or AWS Backup for the bucket' : type === 'volume' ? 'use AWS Backup for the EFS file system' : 'OpenSearch takes automated snapshots itself'}`, { code: 'E_UNSUPPORTED' });
  }
  const resource = target.outputs?.[RESOURCE_OUTPUT[type]];
  if (typeof resource !== 'string' || resource === '') {
    throw new EngineError(`${subject}: the stack records no ${RESOURCE_OUTPUT[type]} for this service (stack output services.${target.service}.${RESOURCE_OUTPUT[type]}); apply the stage again so it is recorded`, { code: 'E_NOT_DEPLOYED' });
  }
  const kind = await kindOf(type, target.clients);
  const t: SnapshotTarget = { subject, service: target.service, resource, stage: key, ...(target.model.plan ? { instanceClass: target.model.plan.replace(/\.ha$/, '') } : {}) };
  const prefix = `${target.ref.organization}-${target.ref.project}-${target.ref.stage}-${target.service}-`;
  const stamp = (): string => new Date(target.now()).toISOString().replace(/[^0-9]/g, '').slice(0, 14);
  const ours = (id: string): boolean => id.startsWith(snapshotIdentifier(prefix)) && /-\d{14}$/.test(id) && !/-final-\d{14}$/.test(id);
  const newestFirst = (a: Backup, b: Backup): number => (a.startedAt === b.startedAt ? (a.id < b.id ? 1 : -1) : a.startedAt < b.startedAt ? 1 : -1);
  const list = async (signal: AbortSignal): Promise<Backup[]> => (await kind.list(t, signal)).sort(newestFirst);

  return {
    create: (trigger, signal) => kind.create(t, snapshotIdentifier(`${prefix}${stamp()}`), trigger, signal),
    list,
    async prune(retentionDays, now, signal) {
      const all = await list(signal);
      const keep = all.find((b) => b.status === 'completed' && ours(b.id));
      const cutoff = now - retentionDays * 86_400_000;
      const old = all.filter((b) => ours(b.id) && b !== keep && b.status !== 'running' && Date.parse(b.startedAt) < cutoff);
      for (const b of old) await kind.remove(t, b.id, signal);
      return old.map((b) => b.id);
    },
    async restorePlan(id, signal) {
      const all = await list(signal);
      const snapshot = all.find((b) => b.status === 'completed' && (id === undefined || b.id === id));
      if (snapshot === undefined) {
        const known = all.filter((b) => b.status === 'completed').map((b) => b.id);
        throw new EngineError(
          `${subject}: ${id === undefined ? 'no completed snapshot' : `no completed snapshot ${id}`}; ${known.length > 0 ? `completed: ${known.slice(0, 10).join(', ')}` : `take one with setopsd backup create ${key} ${target.service}`}`,
          { code: 'E_BACKUP_NOT_FOUND', data: { known } },
        );
      }
      // RDS and DocumentDB identifiers: up to 63 characters; ElastiCache replication groups: 40.
      const max = type === 'redis' ? 40 : 63;
      const into = snapshotIdentifier(`${resource.slice(0, max - 23).replace(/-+$/, '')}-restore-${stamp()}`);
      return {
        snapshot,
        into,
        commands: await kind.restoreCommands(t, snapshot, into, signal),
        then: [
          `${into} is a new ${type === 'redis' ? 'replication group' : type === 'documentdb' ? 'cluster' : 'instance'} beside the service's ${resource}, which keeps running unchanged (setopsd and Pulumi do not manage the new one).`,
          `Copy the data you need from it into the service (e.g. from a one-off task: setopsd task run ${key} APP -- …), then delete it.`,
        ],
      };
    },
  };
}

async function kindOf(type: 'postgresql' | 'documentdb' | 'redis', clients: AwsBackupTarget['clients']): Promise<SnapshotKind> {
  // Each client is loaded only when its kind of backup is asked for.
  if (type === 'postgresql') return (await import('./rds.js')).rdsSnapshots(clients('RDS'));
  if (type === 'documentdb') return (await import('./docdb.js')).docdbSnapshots(clients('DOCDB'));
  return (await import('./elasticache.js')).elasticacheSnapshots(clients('ELASTICACHE'));
}
