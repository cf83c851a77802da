/**
 * The daemon's scheduled backups (ScheduledBackups): a deployed service with `backup.schedule`
 * gets a UTC cron job; a due backup is taken with trigger `schedule` and counted; a failing one
 * is recorded as failed, counted and sent to the stage's notifications, and the daemon goes on;
 * changing or removing the schedule changes or stops the job. Plans show the schedule as a
 * SetOps `backup:schedule --hour H` where it is daily.
 */
import t from 'tap';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { ScheduledBackups } from '../../src/daemon/backup-schedules.js';
import { Notifier } from '../../src/providers/notify/notifier.js';
import { listLocalBackups } from '../../src/providers/local/backups/index.js';
import { plan } from '../../src/reconciler/plan.js';
import { StateStore } from '../../src/state/store.js';
import { realClock, realSleep } from '../../src/sleep.js';
import { testDeps } from '../helpers/deps.js';
import { service, stage } from '../helpers/models.js';
import { tempDir } from '../helpers/temp.js';
import { webhookReceiver } from '../helpers/receivers.js';

const REF = { organization: 'acme', project: 'shop', stage: 'staging' };

t.test('scheduled backups: jobs from recorded models, a completed and a failed run, changes', async (t) => {
  const stateDir = tempDir(t, 'setopsd-sched-backups-');
  const hook = await webhookReceiver(t);
  const model = stage({ notifications: { ops: { type: 'webhook', target: hook.url, events: ['backup.failed'] } }, services: { disk: service('volume', { backup: { retentionDays: 7, schedule: '0 3 * * *' } }) } });
  await new StateStore(stateDir).write(REF, model);
  const dataDir = join(stateDir, 'stages/acme/shop/staging/local/data/disk');
  await mkdir(dataDir, { recursive: true });
  await writeFile(join(dataDir, 'file.txt'), 'kept');

  const results: string[] = [];
  const deps = testDeps({ clock: realClock, sleep: realSleep, env: process.env });
  const notifier = new Notifier({ log: pino({ level: 'silent' }), sleep: async () => {} });
  const backups = new ScheduledBackups({ deps, stateDir, notifier, owns: () => true, onResult: (stage, svc, r) => results.push(`${stage} ${svc} ${r}`) });
  t.teardown(() => backups.stop());
  await backups.refresh();
  const next = backups.next()['acme/shop/staging disk'];
  t.match(next, /T03:00:00\.000Z$/, 'the next run is at 03:00 UTC');

  await backups.run(REF, 'disk');
  const [done] = await listLocalBackups(stateDir, REF, 'disk');
  t.match(done, { status: 'completed', trigger: 'schedule', size: Number });

  // The service's directory is gone (replaced by a dangling link): the backup fails, loudly.
  await rm(dataDir, { recursive: true });
  await symlink(join(stateDir, 'nowhere'), dataDir);
  await backups.run(REF, 'disk');
  await notifier.drain();
  t.same(results, ['acme/shop/staging disk completed', 'acme/shop/staging disk failed']);
  const [failed] = await listLocalBackups(stateDir, REF, 'disk');
  t.match(failed, { status: 'failed', trigger: 'schedule', error: { code: 'E_BACKUP_FAILED' } });
  t.equal(hook.posts.length, 1);
  t.match(JSON.parse(hook.posts[0]!.body), { event: 'backup.failed', data: { service: 'disk', backup: failed!.id } });

  // A new schedule replaces the job; none stops it.
  await new StateStore(stateDir).write(REF, stage({ services: { disk: service('volume', { backup: { retentionDays: 7, schedule: '30 1 * * 0' } }) } }));
  await backups.refresh();
  t.match(backups.next()['acme/shop/staging disk'], /T01:30:00\.000Z$/);
  await new StateStore(stateDir).write(REF, stage({ services: { disk: service('volume') } }));
  await backups.refresh();
  t.same(backups.next(), {});
});

t.test('the plan shows a daily backup schedule as SetOps backup:schedule --hour', async (t) => {
  const before = stage({ services: { db: service('postgresql') } });
  const daily = stage({ services: { db: service('postgresql', { backup: { retentionDays: 7, schedule: '0 3 * * *' } }) } });
  const hourly = stage({ services: { db: service('postgresql', { backup: { retentionDays: 7, schedule: '0 * * * *' } }) } });
  t.match(plan(daily, before).changes, [{ op: 'update', subject: 'service/db', path: 'backup.schedule', after: '0 3 * * *', command: 'setops --project shop --stage staging --service db backup:schedule --hour 3' }]);
  t.match(plan(hourly, before).changes, [{ command: '# no SetOps equivalent: setopsd backup schedule "0 * * * *" (the daemon takes the backups)' }]);
});

t.test('an AWS stage: a scheduled backup is an RDS manual snapshot tagged schedule; s3 gets no job; a refused call is a failed run', async (t) => {
  const { loadDesired } = await import('../../src/manifests/load.js');
  const { readDirectory } = await import('../../src/manifests/source-dir.js');
  const { stageBackend, writeStackCheckpoint } = await import('../providers/aws/engine/checkpoint-file.js');
  const { fakeAwsQuery } = await import('../providers/aws/engine/fake-aws-query.js');
  const ref = { organization: 'globex', project: 'storefront', stage: 'staging' };
  const loaded = loadDesired(await readDirectory(join(import.meta.dirname, '..', 'fixtures', 'aws-backups')));
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
  const base = loaded.value.stages[0]!;
  const scheduled = { retentionDays: 7, schedule: '0 4 * * *' };
  const model = { ...base, services: { ...base.services, database: { ...base.services.database!, backup: scheduled }, uploads: { ...base.services.uploads!, backup: scheduled } } };
  const stateDir = tempDir(t, 'setopsd-sched-aws-');
  const project = 'setops-globex-storefront';
  writeStackCheckpoint(stageBackend(stateDir, ref), ref, model, {
    resources: [{ urn: `urn:pulumi:staging::${project}::pulumi:pulumi:Stack::${project}-staging`, custom: false, type: 'pulumi:pulumi:Stack', outputs: { setopsdStageModel: JSON.stringify(model), services: { database: { type: 'postgresql', host: 'db.example', dbInstanceIdentifier: 'svc-database-db-82d96cd' }, uploads: { type: 's3', bucket: 'b' } } } }],
  });
  await new StateStore(stateDir).write(ref, model);
  let refuse = false;
  const snapshot = (id: string, status: string) =>
    `<DBSnapshot><DBSnapshotIdentifier>${id}</DBSnapshotIdentifier><DBInstanceIdentifier>svc-database-db-82d96cd</DBInstanceIdentifier><SnapshotCreateTime>2026-01-01T00:00:00Z</SnapshotCreateTime><Status>${status}</Status><SnapshotType>manual</SnapshotType></DBSnapshot>`;
  const aws = await fakeAwsQuery(t, (req) => {
    if (refuse) return { status: 400, error: { code: 'SnapshotQuotaExceeded', message: 'too many snapshots' } };
    if (req.action === 'CreateDBSnapshot') return { xml: snapshot(req.params.DBSnapshotIdentifier!, 'creating') };
    if (req.action === 'DescribeDBSnapshots') return { xml: '<DBSnapshots></DBSnapshots>' };
    return { status: 400, error: { code: 'InvalidAction', message: `unexpected ${req.action}` } };
  });
  const env = { PATH: join(stateDir, 'no-bin'), AWS_ENDPOINT_URL: aws.url, AWS_ACCESS_KEY_ID: 'AKIDTESTONLY', AWS_SECRET_ACCESS_KEY: 'canary-aws-secret-4d1e', AWS_MAX_ATTEMPTS: '1' };
  const results: string[] = [];
  const deps = testDeps({ clock: realClock, sleep: realSleep, env });
  const notifier = new Notifier({ log: pino({ level: 'silent' }), sleep: async () => {} });
  const backups = new ScheduledBackups({ deps, stateDir, notifier, owns: () => true, onResult: (stage, svc, r) => results.push(`${stage} ${svc} ${r}`) });
  t.teardown(() => backups.stop());
  await backups.refresh();
  t.same(Object.keys(backups.next()), ['globex/storefront/staging database'], 'a job for the database, none for the s3 bucket');
  t.match(backups.next()['globex/storefront/staging database'], /T04:00:00\.000Z$/);

  await backups.run(ref, 'database');
  const create = aws.requests.find((q) => q.action === 'CreateDBSnapshot');
  t.match(create?.params, { DBInstanceIdentifier: 'svc-database-db-82d96cd', DBSnapshotIdentifier: /^globex-storefront-staging-database-\d{14}$/, 'Tags.Tag.1.Key': 'setopsd:trigger', 'Tags.Tag.1.Value': 'schedule' });
  refuse = true;
  await backups.run(ref, 'database');
  t.same(results, ['globex/storefront/staging database completed', 'globex/storefront/staging database failed']);
  t.notMatch(deps.out() + deps.err(), /canary-aws-secret/, 'the AWS secret key appears nowhere');
});
