/** RDS (postgresql) instance snapshots through `@aws-sdk/client-rds`. */
import { CreateDBSnapshotCommand, DeleteDBSnapshotCommand, DescribeDBInstancesCommand, DescribeDBSnapshotsCommand, RDSClient, type DBSnapshot, type RDSClientConfig } from '@aws-sdk/client-rds';
import type { Backup } from '../../backups.js';
import { awsCall, backupStatus, sh, STAGE_TAG, TRIGGER_TAG, triggerOf, type SnapshotKind, type SnapshotTarget } from './snapshot-kind.js';

export function rdsSnapshots(config: RDSClientConfig): SnapshotKind {
  let client: RDSClient | undefined;
  const rds = (): RDSClient => (client ??= new RDSClient(config));
  const toBackup = (t: SnapshotTarget, s: DBSnapshot): Backup => {
    const id = s.DBSnapshotIdentifier ?? '';
    return {
      id,
      service: t.service,
      type: 'postgresql',
      status: backupStatus(s.Status),
      trigger: triggerOf(s.TagList, s.SnapshotType, id),
      method: s.SnapshotType === 'automated' ? 'RDS automated snapshot' : 'RDS manual snapshot',
      startedAt: (s.SnapshotCreateTime ?? s.OriginalSnapshotCreateTime ?? new Date(0)).toISOString(),
      ...(s.DBSnapshotArn ? { arn: s.DBSnapshotArn } : {}),
      ...(s.AllocatedStorage !== undefined ? { sizeGiB: s.AllocatedStorage } : {}),
      ...(s.Status ? { providerStatus: s.Status } : {}),
      ...(s.PercentProgress !== undefined ? { percentProgress: s.PercentProgress } : {}),
    };
  };
  return {
    method: 'RDS manual snapshot',
    async create(t, id, trigger, signal) {
      const res = await awsCall(t, 'RDS CreateDBSnapshot', 'rds:CreateDBSnapshot', signal, () =>
        rds().send(new CreateDBSnapshotCommand({ DBSnapshotIdentifier: id, DBInstanceIdentifier: t.resource, Tags: [{ Key: TRIGGER_TAG, Value: trigger }, { Key: STAGE_TAG, Value: t.stage }] }), { abortSignal: signal }),
      );
      return { ...toBackup(t, res.DBSnapshot ?? { DBSnapshotIdentifier: id, Status: 'creating' }), trigger };
    },
    async list(t, signal) {
      const out: Backup[] = [];
      let marker: string | undefined;
      do {
        const res = await awsCall(t, 'RDS DescribeDBSnapshots', 'rds:DescribeDBSnapshots', signal, () =>
          rds().send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: t.resource, ...(marker ? { Marker: marker } : {}) }), { abortSignal: signal }),
        );
        out.push(...(res.DBSnapshots ?? []).map((s) => toBackup(t, s)));
        marker = res.Marker;
      } while (marker);
      return out;
    },
    async remove(t, id, signal) {
      await awsCall(t, 'RDS DeleteDBSnapshot', 'rds:DeleteDBSnapshot', signal, () => rds().send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: id }), { abortSignal: signal }));
    },
    async restoreCommands(t, snapshot, into, signal) {
      const res = await awsCall(t, 'RDS DescribeDBInstances', 'rds:DescribeDBInstances', signal, () =>
        rds().send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: t.resource }), { abortSignal: signal }),
      );
      const db = res.DBInstances?.[0] ?? {};
      const groups = (db.VpcSecurityGroups ?? []).map((g) => g.VpcSecurityGroupId).filter((g): g is string => !!g);
      const words = ['aws', 'rds', 'restore-db-instance-from-db-snapshot', '--db-snapshot-identifier', snapshot.id, '--db-instance-identifier', into];
      if (db.DBInstanceClass) words.push('--db-instance-class', db.DBInstanceClass);
      if (db.DBSubnetGroup?.DBSubnetGroupName) words.push('--db-subnet-group-name', db.DBSubnetGroup.DBSubnetGroupName);
      if (groups.length > 0) words.push('--vpc-security-group-ids', ...groups);
      const params = db.DBParameterGroups?.[0]?.DBParameterGroupName;
      if (params) words.push('--db-parameter-group-name', params);
      // Encrypted like the snapshot (RDS keeps its key); private like the service.
      words.push('--no-publicly-accessible', '--copy-tags-to-snapshot');
      return [
        words.map(sh).join(' '),
        `aws rds wait db-instance-available --db-instance-identifier ${sh(into)}`,
      ];
    },
  };
}
