/** ElastiCache (redis) replication group snapshots through `@aws-sdk/client-elasticache`. */
import { CreateSnapshotCommand, DeleteSnapshotCommand, DescribeCacheClustersCommand, DescribeReplicationGroupsCommand, DescribeSnapshotsCommand, ElastiCacheClient, type ElastiCacheClientConfig, type Snapshot } from '@aws-sdk/client-elasticache';
import type { Backup } from '../../backups.js';
import { awsCall, backupStatus, sh, STAGE_TAG, TRIGGER_TAG, triggerOf, type SnapshotKind, type SnapshotTarget } from './snapshot-kind.js';

export function elasticacheSnapshots(config: ElastiCacheClientConfig): SnapshotKind {
  let client: ElastiCacheClient | undefined;
  const cache = (): ElastiCacheClient => (client ??= new ElastiCacheClient(config));
  const toBackup = (t: SnapshotTarget, s: Snapshot): Backup => {
    const id = s.SnapshotName ?? '';
    const created = s.NodeSnapshots?.map((n) => n.SnapshotCreateTime).find((d): d is Date => d instanceof Date);
    const bytes = s.NodeSnapshots?.map((n) => Number(n.CacheSize?.replace(/\D+$/, '') ?? NaN)).find((n) => Number.isFinite(n));
    return {
      id,
      service: t.service,
      type: 'redis',
      status: backupStatus(s.SnapshotStatus),
      trigger: triggerOf(undefined, s.SnapshotSource, id),
      method: s.SnapshotSource === 'automated' ? 'ElastiCache automatic backup' : 'ElastiCache manual backup',
      startedAt: (created ?? new Date(0)).toISOString(),
      ...(s.ARN ? { arn: s.ARN } : {}),
      ...(bytes !== undefined && s.NodeSnapshots?.[0]?.CacheSize?.endsWith('MB') ? { size: bytes * 1024 * 1024 } : {}),
      ...(s.SnapshotStatus ? { providerStatus: s.SnapshotStatus } : {}),
    };
  };
  return {
    method: 'ElastiCache manual backup',
    async create(t, id, trigger, signal) {
      const res = await awsCall(t, 'ElastiCache CreateSnapshot', 'elasticache:CreateSnapshot', signal, () =>
        cache().send(new CreateSnapshotCommand({ SnapshotName: id, ReplicationGroupId: t.resource, Tags: [{ Key: TRIGGER_TAG, Value: trigger }, { Key: STAGE_TAG, Value: t.stage }] }), { abortSignal: signal }),
      );
      return { ...toBackup(t, res.Snapshot ?? { SnapshotName: id, SnapshotStatus: 'creating' }), trigger, startedAt: (res.Snapshot?.NodeSnapshots?.[0]?.SnapshotCreateTime ?? new Date()).toISOString() };
    },
    async list(t, signal) {
      const out: Backup[] = [];
      let marker: string | undefined;
      do {
        const res = await awsCall(t, 'ElastiCache DescribeSnapshots', 'elasticache:DescribeSnapshots', signal, () =>
          cache().send(new DescribeSnapshotsCommand({ ReplicationGroupId: t.resource, ...(marker ? { Marker: marker } : {}) }), { abortSignal: signal }),
        );
        out.push(...(res.Snapshots ?? []).map((s) => toBackup(t, s)));
        marker = res.Marker;
      } while (marker);
      return out;
    },
    async remove(t, id, signal) {
      await awsCall(t, 'ElastiCache DeleteSnapshot', 'elasticache:DeleteSnapshot', signal, () => cache().send(new DeleteSnapshotCommand({ SnapshotName: id }), { abortSignal: signal }));
    },
    async restoreCommands(t, snapshot, into, signal) {
      const groups = await awsCall(t, 'ElastiCache DescribeReplicationGroups', 'elasticache:DescribeReplicationGroups', signal, () =>
        cache().send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: t.resource }), { abortSignal: signal }),
      );
      const group = groups.ReplicationGroups?.[0] ?? {};
      const member = group.MemberClusters?.[0];
      const node = member
        ? (await awsCall(t, 'ElastiCache DescribeCacheClusters', 'elasticache:DescribeCacheClusters', signal, () => cache().send(new DescribeCacheClustersCommand({ CacheClusterId: member }), { abortSignal: signal }))).CacheClusters?.[0]
        : undefined;
      const sgs = (node?.SecurityGroups ?? []).map((g) => g.SecurityGroupId).filter((g): g is string => !!g);
      const words = ['aws', 'elasticache', 'create-replication-group', '--replication-group-id', into, '--replication-group-description', `restore of ${t.subject} from ${snapshot.id}`, '--snapshot-name', snapshot.id, '--engine', 'redis'];
      if (group.CacheNodeType) words.push('--cache-node-type', group.CacheNodeType);
      if (node?.CacheSubnetGroupName) words.push('--cache-subnet-group-name', node.CacheSubnetGroupName);
      if (sgs.length > 0) words.push('--security-group-ids', ...sgs);
      if (group.TransitEncryptionEnabled) words.push('--transit-encryption-enabled');
      if (group.AtRestEncryptionEnabled) words.push('--at-rest-encryption-enabled');
      // The auth token is a secret: read from the service's secret at run time, never printed.
      if (group.AuthTokenEnabled) words.push('--auth-token', '"$REDIS_AUTH_TOKEN"');
      const cmd = words.map((w) => (w === '"$REDIS_AUTH_TOKEN"' ? w : sh(w))).join(' ');
      return [cmd, `aws elasticache wait replication-group-available --replication-group-id ${sh(into)}`];
    },
  };
}
