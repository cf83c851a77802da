/** DocumentDB cluster snapshots through `@aws-sdk/client-docdb`. */
import { CreateDBClusterSnapshotCommand, DeleteDBClusterSnapshotCommand, DescribeDBClustersCommand, DescribeDBClusterSnapshotsCommand, DocDBClient, type DBClusterSnapshot, type DocDBClientConfig } from '@aws-sdk/client-docdb';
import type { Backup } from '../../backups.js';
import { awsCall, backupStatus, sh, STAGE_TAG, TRIGGER_TAG, triggerOf, type SnapshotKind, type SnapshotTarget } from './snapshot-kind.js';

export function docdbSnapshots(config: DocDBClientConfig): SnapshotKind {
  let client: DocDBClient | undefined;
  const docdb = (): DocDBClient => (client ??= new DocDBClient(config));
  const toBackup = (t: SnapshotTarget, s: DBClusterSnapshot): Backup => {
    const id = s.DBClusterSnapshotIdentifier ?? '';
    return {
      id,
      service: t.service,
      type: 'documentdb',
      status: backupStatus(s.Status),
      // DescribeDBClusterSnapshots returns no tags: the trigger of a manual one is not listed.
      trigger: triggerOf(undefined, s.SnapshotType, id),
      method: s.SnapshotType === 'automated' ? 'DocumentDB automated cluster snapshot' : 'DocumentDB manual cluster snapshot',
      startedAt: (s.SnapshotCreateTime ?? new Date(0)).toISOString(),
      ...(s.DBClusterSnapshotArn ? { arn: s.DBClusterSnapshotArn } : {}),
      ...(s.Status ? { providerStatus: s.Status } : {}),
      ...(s.PercentProgress !== undefined ? { percentProgress: s.PercentProgress } : {}),
    };
  };
  return {
    method: 'DocumentDB manual cluster snapshot',
    async create(t, id, trigger, signal) {
      const res = await awsCall(t, 'DocumentDB CreateDBClusterSnapshot', 'rds:CreateDBClusterSnapshot', signal, () =>
        docdb().send(new CreateDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: id, DBClusterIdentifier: t.resource, Tags: [{ Key: TRIGGER_TAG, Value: trigger }, { Key: STAGE_TAG, Value: t.stage }] }), { abortSignal: signal }),
      );
      return { ...toBackup(t, res.DBClusterSnapshot ?? { DBClusterSnapshotIdentifier: id, Status: 'creating' }), trigger };
    },
    async list(t, signal) {
      const out: Backup[] = [];
      let marker: string | undefined;
      do {
        const res = await awsCall(t, 'DocumentDB DescribeDBClusterSnapshots', 'rds:DescribeDBClusterSnapshots', signal, () =>
          docdb().send(new DescribeDBClusterSnapshotsCommand({ DBClusterIdentifier: t.resource, ...(marker ? { Marker: marker } : {}) }), { abortSignal: signal }),
        );
        out.push(...(res.DBClusterSnapshots ?? []).map((s) => toBackup(t, s)));
        marker = res.Marker;
      } while (marker);
      return out;
    },
    async remove(t, id, signal) {
      await awsCall(t, 'DocumentDB DeleteDBClusterSnapshot', 'rds:DeleteDBClusterSnapshot', signal, () => docdb().send(new DeleteDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: id }), { abortSignal: signal }));
    },
    async restoreCommands(t, snapshot, into, signal) {
      const res = await awsCall(t, 'DocumentDB DescribeDBClusters', 'rds:DescribeDBClusters', signal, () =>
        docdb().send(new DescribeDBClustersCommand({ DBClusterIdentifier: t.resource }), { abortSignal: signal }),
      );
      const cluster = res.DBClusters?.[0] ?? {};
      const groups = (cluster.VpcSecurityGroups ?? []).map((g) => g.VpcSecurityGroupId).filter((g): g is string => !!g);
      const words = ['aws', 'docdb', 'restore-db-cluster-from-snapshot', '--snapshot-identifier', snapshot.id, '--db-cluster-identifier', into, '--engine', 'docdb'];
      if (cluster.DBSubnetGroup) words.push('--db-subnet-group-name', cluster.DBSubnetGroup);
      if (groups.length > 0) words.push('--vpc-security-group-ids', ...groups);
      if (cluster.DBClusterParameterGroup) words.push('--db-cluster-parameter-group-name', cluster.DBClusterParameterGroup);
      return [
        words.map(sh).join(' '),
        ['aws', 'docdb', 'create-db-instance', '--db-cluster-identifier', into, '--db-instance-identifier', `${into}-1`, '--engine', 'docdb', '--db-instance-class', t.instanceClass ?? 'db.t3.medium'].map(sh).join(' '),
        `aws docdb wait db-instance-available --db-instance-identifier ${sh(`${into}-1`)}`,
      ];
    },
  };
}
