/**
 * Backups of AWS stages through the CLI: `setopsd backup create|list|restore` on RDS
 * (postgresql), DocumentDB and ElastiCache (redis) snapshots, with the real `@aws-sdk/client-rds`,
 * `client-docdb` and `client-elasticache` clients against a fake query-protocol endpoint on
 * 127.0.0.1 (form-encoded `Action`, XML answers). The stage is recorded as `apply` leaves it: a
 * checkpoint in the stage's file backend whose outputs name each database.
 */
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { loadDesired } from '../../src/manifests/load.js';
import { readDirectory } from '../../src/manifests/source-dir.js';
import type { StageModel } from '../../src/model/stage-model.js';
import { StateStore } from '../../src/state/store.js';
import { runCli } from '../helpers/deps.js';
import { tempDir } from '../helpers/temp.js';
import { stageBackend, writeStackCheckpoint } from '../providers/aws/engine/checkpoint-file.js';
import { fakeAwsQuery, type QueryAnswer, type QueryRequest } from '../providers/aws/engine/fake-aws-query.js';

const ref = { organization: 'globex', project: 'storefront', stage: 'staging' };
const KEY = 'globex/storefront/staging';
const project = 'setops-globex-storefront';
const CANARY = 'canary-secret-value-7f3a9';
/** The CLI's clock in tests: 2026-01-01T00:00:00Z. */
const STAMP = '20260101000000';
const days = (n: number) => new Date(Date.parse('2026-01-01T00:00:00Z') - n * 86_400_000).toISOString();

async function deployed(t: Test, answer: (req: QueryRequest, n: number) => QueryAnswer, outputs?: Record<string, unknown>) {
  const loaded = loadDesired(await readDirectory(join(import.meta.dirname, '..', 'fixtures', 'aws-backups')));
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
  const model: StageModel = loaded.value.stages[0]!;
  const stateDir = tempDir(t, 'setopsd-aws-backups-');
  const services = outputs ?? {
    database: { type: 'postgresql', host: 'db.example', dbInstanceIdentifier: 'svc-database-db-82d96cd', credentialsSecretArn: `arn:aws:secretsmanager:eu-central-1:123456789012:secret:${CANARY}` },
    catalog: { type: 'documentdb', clusterIdentifier: 'svc-catalog-docdb-d4cb7b2' },
    cache: { type: 'redis', replicationGroupId: 'svc-cache-redis-408c3d9' },
    uploads: { type: 's3', bucket: 'b' },
  };
  writeStackCheckpoint(stageBackend(stateDir, ref), ref, model, {
    resources: [{ urn: `urn:pulumi:staging::${project}::pulumi:pulumi:Stack::${project}-staging`, custom: false, type: 'pulumi:pulumi:Stack', outputs: { setopsdStageModel: JSON.stringify(model), services } }],
  });
  await new StateStore(stateDir).write(ref, model);
  const aws = await fakeAwsQuery(t, answer);
  const env = {
    PATH: join(stateDir, 'no-bin'),
    AWS_ENDPOINT_URL: aws.url,
    AWS_ACCESS_KEY_ID: 'AKIDTESTONLY',
    AWS_SECRET_ACCESS_KEY: CANARY,
    AWS_MAX_ATTEMPTS: '1',
  };
  const cli = (...argv: string[]) => runCli(['backup', ...argv, '--state-dir', stateDir], { env });
  return { aws, cli, stateDir };
}

const rdsSnapshot = (id: string, o: { status?: string; type?: string; at: string; trigger?: string }) =>
  `<DBSnapshot><DBSnapshotIdentifier>${id}</DBSnapshotIdentifier><DBInstanceIdentifier>svc-database-db-82d96cd</DBInstanceIdentifier>` +
  `<SnapshotCreateTime>${o.at}</SnapshotCreateTime><Status>${o.status ?? 'available'}</Status><SnapshotType>${o.type ?? 'manual'}</SnapshotType><AllocatedStorage>20</AllocatedStorage>` +
  `<DBSnapshotArn>arn:aws:rds:eu-central-1:123456789012:snapshot:${id}</DBSnapshotArn>` +
  (o.trigger ? `<TagList><Tag><Key>setopsd:trigger</Key><Value>${o.trigger}</Value></Tag></TagList>` : '') +
  `</DBSnapshot>`;

t.test('create on RDS: a manual snapshot named after stage, service and time, tagged; older ones setopsd took are pruned past retention', async (t) => {
  const ours = (d: string) => `globex-storefront-staging-database-${d}`;
  const { aws, cli } = await deployed(t, (req) => {
    if (req.action === 'CreateDBSnapshot') return { xml: rdsSnapshot(req.params.DBSnapshotIdentifier!, { status: 'creating', at: days(0), trigger: 'manual' }) };
    if (req.action === 'DescribeDBSnapshots') {
      return {
        xml:
          '<DBSnapshots>' +
          rdsSnapshot(ours(STAMP), { status: 'creating', at: days(0), trigger: 'manual' }) +
          rdsSnapshot(ours('20251212000000'), { at: days(20), trigger: 'manual' }) +
          rdsSnapshot(ours('20251202000000'), { at: days(30), trigger: 'schedule' }) +
          rdsSnapshot('rds:svc-database-db-82d96cd-2025-12-01-03-00', { type: 'automated', at: days(31) }) +
          rdsSnapshot('globex-storefront-staging-database-final-20251101000000', { at: days(61) }) +
          rdsSnapshot('someone-elses-snapshot', { at: days(90) }) +
          '</DBSnapshots>',
      };
    }
    if (req.action === 'DeleteDBSnapshot') return { xml: rdsSnapshot(req.params.DBSnapshotIdentifier!, { status: 'deleted', at: days(30) }) };
    return { status: 400, error: { code: 'InvalidAction', message: `unexpected ${req.action}` } };
  });
  const r = await cli('create', KEY, 'database');
  t.equal(r.code, 0, r.stderr);
  t.equal(
    r.stdout,
    `service/database in ${KEY}: RDS manual snapshot ${ours(STAMP)} started (creating); see setopsd backup list ${KEY} database\n` +
      `  arn:aws:rds:eu-central-1:123456789012:snapshot:${ours(STAMP)}\n` +
      `  pruned past retention: ${ours('20251202000000')}\n`,
  );
  t.same(
    aws.requests.map((q) => q.action),
    ['CreateDBSnapshot', 'DescribeDBSnapshots', 'DeleteDBSnapshot'],
  );
  t.match(aws.requests[0]!.params, {
    Version: '2014-10-31',
    DBSnapshotIdentifier: ours(STAMP),
    DBInstanceIdentifier: 'svc-database-db-82d96cd',
    'Tags.Tag.1.Key': 'setopsd:trigger',
    'Tags.Tag.1.Value': 'manual',
    'Tags.Tag.2.Key': 'setopsd:stage',
    'Tags.Tag.2.Value': KEY,
  });
  t.equal(aws.requests[2]!.params.DBSnapshotIdentifier, ours('20251202000000'), 'only a snapshot setopsd took, past 7 days, not the newest completed one; never automated, final or foreign ones');
  t.match(aws.requests[0]!.authorization, /^AWS4-HMAC-SHA256 Credential=AKIDTESTONLY\//, 'signed by the SDK');
  t.notMatch(r.stdout + r.stderr, CANARY);
});

t.test('list on ElastiCache: manual and automatic backups with their status, newest first', async (t) => {
  const snap = (name: string, source: string, status: string, at: string) =>
    `<Snapshot><SnapshotName>${name}</SnapshotName><ReplicationGroupId>svc-cache-redis-408c3d9</ReplicationGroupId><SnapshotStatus>${status}</SnapshotStatus>` +
    `<SnapshotSource>${source}</SnapshotSource><CacheNodeType>cache.t4g.micro</CacheNodeType><NodeSnapshots><NodeSnapshot><CacheClusterId>svc-cache-redis-408c3d9-001</CacheClusterId>` +
    `<CacheSize>5 MB</CacheSize><SnapshotCreateTime>${at}</SnapshotCreateTime></NodeSnapshot></NodeSnapshots></Snapshot>`;
  const { aws, cli } = await deployed(t, (req) =>
    req.action === 'DescribeSnapshots'
      ? { xml: `<Snapshots>${snap('automatic.svc-cache-redis-408c3d9-2025-12-30-03-00', 'automated', 'available', days(2))}${snap(`globex-storefront-staging-cache-${STAMP}`, 'manual', 'creating', days(0))}${snap('globex-storefront-staging-cache-20251220000000', 'manual', 'failed', days(12))}</Snapshots>` }
      : { status: 400, error: { code: 'InvalidAction', message: req.action } },
  );
  const r = await cli('list', KEY, 'cache');
  t.equal(r.code, 0, r.stderr);
  t.equal(
    r.stdout,
    [
      `service/cache in ${KEY}: 3 backups, newest first`,
      `  globex-storefront-staging-cache-${STAMP}  running    2026-01-01T00:00:00.000Z  manual       ElastiCache manual backup, 5.0 MiB (creating)`,
      `  automatic.svc-cache-redis-408c3d9-2025-12-30-03-00  completed  2025-12-30T00:00:00.000Z  automated    ElastiCache automatic backup, 5.0 MiB`,
      `  globex-storefront-staging-cache-20251220000000  failed     2025-12-20T00:00:00.000Z  manual       ElastiCache manual backup: failed`,
      '',
    ].join('\n'),
  );
  t.same(aws.requests.map((q) => [q.action, q.params.ReplicationGroupId]), [['DescribeSnapshots', 'svc-cache-redis-408c3d9']]);
  const json = await cli('list', KEY, 'cache', '--format', 'json');
  t.match(JSON.parse(json.stdout), { stage: KEY, service: 'cache', backups: [{ status: 'running', providerStatus: 'creating', arn: undefined }, { trigger: 'automated' }, { status: 'failed' }] });
});

t.test('restore on DocumentDB: a plan to create a new cluster from the snapshot; nothing changes', async (t) => {
  const snap = (id: string, at: string, status = 'available') =>
    `<DBClusterSnapshot><DBClusterSnapshotIdentifier>${id}</DBClusterSnapshotIdentifier><DBClusterIdentifier>svc-catalog-docdb-d4cb7b2</DBClusterIdentifier><SnapshotCreateTime>${at}</SnapshotCreateTime><Status>${status}</Status><SnapshotType>manual</SnapshotType><Engine>docdb</Engine></DBClusterSnapshot>`;
  const { aws, cli } = await deployed(t, (req) => {
    if (req.action === 'DescribeDBClusterSnapshots') return { xml: `<DBClusterSnapshots>${snap('globex-storefront-staging-catalog-20251230000000', days(2))}${snap(`globex-storefront-staging-catalog-${STAMP}`, days(0), 'creating')}</DBClusterSnapshots>` };
    if (req.action === 'DescribeDBClusters') {
      return {
        xml:
          '<DBClusters><DBCluster><DBClusterIdentifier>svc-catalog-docdb-d4cb7b2</DBClusterIdentifier><DBSubnetGroup>svc-catalog-subnets-1a2b</DBSubnetGroup>' +
          '<DBClusterParameterGroup>svc-catalog-params-3c4d</DBClusterParameterGroup><VpcSecurityGroups><VpcSecurityGroupMembership><VpcSecurityGroupId>sg-0catalog</VpcSecurityGroupId><Status>active</Status></VpcSecurityGroupMembership></VpcSecurityGroups></DBCluster></DBClusters>',
      };
    }
    return { status: 400, error: { code: 'InvalidAction', message: req.action } };
  });
  const r = await cli('restore', KEY, 'catalog');
  t.equal(r.code, 0, r.stderr);
  const into = `svc-catalog-docdb-d4cb7b2-restore-${STAMP}`;
  t.equal(
    r.stdout,
    `service/catalog in ${KEY}: restoring snapshot globex-storefront-staging-catalog-20251230000000 (taken 2025-12-30T00:00:00.000Z) creates ${into}; nothing has changed yet. To restore, run:\n` +
      `  aws docdb restore-db-cluster-from-snapshot --snapshot-identifier globex-storefront-staging-catalog-20251230000000 --db-cluster-identifier ${into} --engine docdb --db-subnet-group-name svc-catalog-subnets-1a2b --vpc-security-group-ids sg-0catalog --db-cluster-parameter-group-name svc-catalog-params-3c4d\n` +
      `  aws docdb create-db-instance --db-cluster-identifier ${into} --db-instance-identifier ${into}-1 --engine docdb --db-instance-class db.t3.medium\n` +
      `  aws docdb wait db-instance-available --db-instance-identifier ${into}-1\n` +
      `${into} is a new cluster beside the service's svc-catalog-docdb-d4cb7b2, which keeps running unchanged (setopsd and Pulumi do not manage the new one).\n` +
      `Copy the data you need from it into the service (e.g. from a one-off task: setopsd task run ${KEY} APP -- …), then delete it.\n`,
    'the newest completed snapshot, with the running cluster\'s network',
  );
  t.same(aws.requests.map((q) => q.action), ['DescribeDBClusterSnapshots', 'DescribeDBClusters'], 'only reads');

  const missing = await cli('restore', KEY, 'catalog', '--id', 'nope');
  t.equal(missing.code, 1);
  t.match(missing.stderr, /service\/catalog in globex\/storefront\/staging: no completed snapshot nope; completed: globex-storefront-staging-catalog-20251230000000/);
  t.notMatch(missing.stderr, /\n\s+at /, 'no stack trace');
});

t.test('restore on RDS and ElastiCache: the commands carry the running database\'s network; the redis auth token stays a variable', async (t) => {
  const { cli } = await deployed(t, (req) => {
    switch (req.action) {
      case 'DescribeDBSnapshots':
        return { xml: `<DBSnapshots>${rdsSnapshot('globex-storefront-staging-database-20251231000000', { at: days(1) })}</DBSnapshots>` };
      case 'DescribeDBInstances':
        return {
          xml:
            '<DBInstances><DBInstance><DBInstanceIdentifier>svc-database-db-82d96cd</DBInstanceIdentifier><DBInstanceClass>db.t4g.micro</DBInstanceClass>' +
            '<DBSubnetGroup><DBSubnetGroupName>svc-database-subnets-9f</DBSubnetGroupName></DBSubnetGroup>' +
            '<VpcSecurityGroups><VpcSecurityGroupMembership><VpcSecurityGroupId>sg-0db</VpcSecurityGroupId></VpcSecurityGroupMembership></VpcSecurityGroups>' +
            '<DBParameterGroups><DBParameterGroup><DBParameterGroupName>svc-database-params-77</DBParameterGroupName></DBParameterGroup></DBParameterGroups></DBInstance></DBInstances>',
        };
      case 'DescribeSnapshots':
        return { xml: '<Snapshots><Snapshot><SnapshotName>globex-storefront-staging-cache-20251231000000</SnapshotName><SnapshotStatus>available</SnapshotStatus><SnapshotSource>manual</SnapshotSource><NodeSnapshots><NodeSnapshot><SnapshotCreateTime>2025-12-31T00:00:00Z</SnapshotCreateTime></NodeSnapshot></NodeSnapshots></Snapshot></Snapshots>' };
      case 'DescribeReplicationGroups':
        return { xml: '<ReplicationGroups><ReplicationGroup><ReplicationGroupId>svc-cache-redis-408c3d9</ReplicationGroupId><CacheNodeType>cache.t4g.micro</CacheNodeType><MemberClusters><ClusterId>svc-cache-redis-408c3d9-001</ClusterId></MemberClusters><AuthTokenEnabled>true</AuthTokenEnabled><TransitEncryptionEnabled>true</TransitEncryptionEnabled><AtRestEncryptionEnabled>true</AtRestEncryptionEnabled></ReplicationGroup></ReplicationGroups>' };
      case 'DescribeCacheClusters':
        return { xml: '<CacheClusters><CacheCluster><CacheClusterId>svc-cache-redis-408c3d9-001</CacheClusterId><CacheSubnetGroupName>svc-cache-subnets-5e</CacheSubnetGroupName><SecurityGroups><member><SecurityGroupId>sg-0cache</SecurityGroupId><Status>active</Status></member></SecurityGroups></CacheCluster></CacheClusters>' };
      default:
        return { status: 400, error: { code: 'InvalidAction', message: req.action } };
    }
  });
  const db = await cli('restore', KEY, 'database');
  t.equal(db.code, 0, db.stderr);
  t.match(
    db.stdout,
    `  aws rds restore-db-instance-from-db-snapshot --db-snapshot-identifier globex-storefront-staging-database-20251231000000 --db-instance-identifier svc-database-db-82d96cd-restore-${STAMP} --db-instance-class db.t4g.micro --db-subnet-group-name svc-database-subnets-9f --vpc-security-group-ids sg-0db --db-parameter-group-name svc-database-params-77 --no-publicly-accessible --copy-tags-to-snapshot\n`,
  );
  const cache = await cli('restore', KEY, 'cache');
  t.equal(cache.code, 0, cache.stderr);
  const into = `svc-cache-redis-4-restore-${STAMP}`;
  t.ok(into.length <= 40, 'a valid replication group id (at most 40 characters)');
  t.match(
    cache.stdout,
    `  aws elasticache create-replication-group --replication-group-id ${into} --replication-group-description 'restore of service/cache in ${KEY} from globex-storefront-staging-cache-20251231000000' --snapshot-name globex-storefront-staging-cache-20251231000000 --engine redis --cache-node-type cache.t4g.micro --cache-subnet-group-name svc-cache-subnets-5e --security-group-ids sg-0cache --transit-encryption-enabled --at-rest-encryption-enabled --auth-token "$REDIS_AUTH_TOKEN"\n`,
  );
});

t.test('refusals: AWS refuses the snapshot, a service without snapshots, a stack that does not name the database', async (t) => {
  const { aws, cli, stateDir } = await deployed(t, (req) =>
    req.action === 'CreateDBSnapshot'
      ? { status: 400, error: { code: 'InvalidDBInstanceState', message: 'Cannot create a snapshot because the database instance svc-database-db-82d96cd is not currently in the available state.' } }
      : { status: 400, error: { code: 'InvalidAction', message: req.action } },
  );
  const refused = await cli('create', KEY, 'database');
  t.equal(refused.code, 1);
  t.match(refused.stderr, /service\/database in globex\/storefront\/staging: RDS CreateDBSnapshot failed: InvalidDBInstanceStateFault: Cannot create a snapshot because the database instance svc-database-db-82d96cd is not currently in the available state; check the AWS credentials and the permission rds:CreateDBSnapshot/);
  t.notMatch(refused.stderr, /\n\s+at /, 'no stack trace');
  t.notMatch(refused.stderr, CANARY);
  t.same(aws.requests.map((q) => q.action), ['CreateDBSnapshot'], 'nothing pruned after a failed snapshot');

  const s3 = await cli('create', KEY, 'uploads');
  t.equal(s3.code, 1);
  t.match(s3.stderr, /service\/uploads in globex\/storefront\/staging: s3 services have no snapshots setopsd takes on AWS; use S3 versioning or AWS Backup for the bucket/);
  t.equal(aws.requests.length, 1, 'no call for it');
  t.ok(stateDir);
});

t.test('a stack recorded before the outputs named the database: apply again', async (t) => {
  const { aws, cli } = await deployed(t, () => ({ status: 400, error: { code: 'InvalidAction', message: 'no' } }), { database: { type: 'postgresql', host: 'db.example' } });
  const r = await cli('list', KEY, 'database');
  t.equal(r.code, 1);
  t.match(r.stderr, /service\/database in globex\/storefront\/staging: the stack records no dbInstanceIdentifier for this service \(stack output services\.database\.dbInstanceIdentifier\); apply the stage again so it is recorded/);
  t.equal(aws.requests.length, 0);
});
