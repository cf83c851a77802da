/**
 * No database is deleted without a final snapshot, and protected stages' stateful resources
 * carry Pulumi's `protect` and `retainOnDelete` (the program under mocks, see run-program.ts).
 */
import t from 'tap';
import type { StageModel } from '../../../../src/model/stage-model.js';
import { AWS_NAME_RULES, awsNameProblems } from '../../../../src/providers/aws/program/aws-names.js';
import { app, service, stage } from '../../../helpers/models.js';
import { AWS_ORG, IMAGE } from './edge-cases.js';
import { runProgram } from './run-program.js';

const DATABASES = { 'svc-main-db': 'postgresql', 'svc-docs-docdb': 'documentdb', 'svc-cache-redis': 'redis' } as const;
const STORES = ['svc-main-db', 'svc-docs-docdb', 'svc-cache-redis', 'svc-files-bucket', 'svc-vol-efs', 'svc-search-opensearch'];

function databases(protectedStage: boolean, over: Partial<StageModel['services'][string]> = {}): StageModel {
  const s = (type: Parameters<typeof service>[0]) => service(type, { deletionProtection: protectedStage, ...over });
  return stage({
    name: protectedStage ? 'production' : 'staging',
    organization: AWS_ORG,
    protected: protectedStage,
    apps: { web: app({ image: IMAGE }) },
    services: { main: s('postgresql'), docs: s('documentdb'), cache: s('redis'), files: s('s3'), vol: s('volume'), search: s('elasticsearch') },
  });
}

t.test('every database keeps a final snapshot named after stage, service and time, protected or not', async (t) => {
  for (const protectedStage of [false, true]) {
    const model = databases(protectedStage, { deletionProtection: false });
    const { resources, options } = await runProgram(model, { now: Date.UTC(2026, 4, 17, 8, 9, 10) });
    const stageName = model.stage.name;
    for (const [logical, type] of Object.entries(DATABASES)) {
      const r = resources.find((x) => x.name === logical)!;
      const service = logical.split('-')[1];
      const want = `acme-shop-${stageName}-${service}-final-20260517080910`;
      t.equal(r.inputs.finalSnapshotIdentifier, want, `${type} on ${stageName}: final snapshot ${want} although deletion protection is off`);
      t.same(awsNameProblems(String(r.inputs.finalSnapshotIdentifier), type === 'redis' ? AWS_NAME_RULES.cacheSnapshot : AWS_NAME_RULES.dbSnapshot), [], 'a valid snapshot identifier');
      if (type !== 'redis') t.equal(r.inputs.skipFinalSnapshot, false, `${type}: skipFinalSnapshot false`);
      t.notOk(options[logical]!.ignoreChanges.includes('finalSnapshotIdentifier'), `${type}: the name is set, not frozen (an upgraded stack gets one)`);
    }
    const rds = resources.find((x) => x.name === 'svc-main-db')!;
    t.equal(rds.inputs.deleteAutomatedBackups, false, 'RDS keeps its automated backups for their retention');
  }
});

t.test('later runs keep the snapshot name the stack records, whatever their time', async (t) => {
  const recordedFinalSnapshots = { 'svc-main-db': 'acme-shop-staging-main-final-20250101000000', 'svc-cache-redis': 'acme-shop-staging-cache-final-20250101000000' };
  const { resources } = await runProgram(databases(false), { now: Date.UTC(2027, 1, 1), recordedFinalSnapshots });
  t.equal(resources.find((x) => x.name === 'svc-main-db')!.inputs.finalSnapshotIdentifier, recordedFinalSnapshots['svc-main-db']);
  t.equal(resources.find((x) => x.name === 'svc-cache-redis')!.inputs.finalSnapshotIdentifier, recordedFinalSnapshots['svc-cache-redis']);
  t.equal(resources.find((x) => x.name === 'svc-docs-docdb')!.inputs.finalSnapshotIdentifier, 'acme-shop-staging-docs-final-20270201000000', 'one without a recorded name gets this run’s');
});

t.test('finalSnapshot: false on the Service deletes without a snapshot', async (t) => {
  const { resources } = await runProgram(databases(false, { finalSnapshot: false }));
  const rds = resources.find((x) => x.name === 'svc-main-db')!;
  t.equal(rds.inputs.skipFinalSnapshot, true);
  t.notOk(rds.inputs.finalSnapshotIdentifier);
  t.equal(resources.find((x) => x.name === 'svc-docs-docdb')!.inputs.skipFinalSnapshot, true);
  t.notOk(resources.find((x) => x.name === 'svc-cache-redis')!.inputs.finalSnapshotIdentifier);
});

t.test('protected stages: stateful resources carry protect and retainOnDelete; others and unprotected stages do not', async (t) => {
  const prod = await runProgram(databases(true));
  for (const logical of STORES) {
    t.same([prod.options[logical]?.protect, prod.options[logical]?.retainOnDelete], [true, true], `${logical}: protect + retainOnDelete on a protected stage`);
  }
  t.same([prod.options['app-web-service']?.protect, prod.options['app-web-service']?.retainOnDelete], [false, false], 'stateless resources stay deletable');
  const staging = await runProgram(databases(false));
  for (const logical of STORES) t.same([staging.options[logical]?.protect, staging.options[logical]?.retainOnDelete], [false, false], `${logical}: not on an unprotected stage`);
  // Turning deletion protection off (the way to delete a service on purpose) lifts them too.
  const unguarded = await runProgram(databases(true, { deletionProtection: false }));
  for (const logical of STORES) t.equal(unguarded.options[logical]?.protect, false, `${logical}: deletionProtection false lifts protect`);
});

t.test('the Service field finalSnapshot reaches the model only when given (existing models keep their hash)', async (t) => {
  const { serviceModel } = await import('../../../../src/manifests/models.js');
  t.equal(serviceModel({ type: 'postgresql', backup: {}, finalSnapshot: false }, false).finalSnapshot, false);
  t.notOk('finalSnapshot' in serviceModel({ type: 'postgresql', backup: {} }, false));
});
