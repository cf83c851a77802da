/**
 * The daemon's check of failed scheduled runs on AWS (ScheduledRunNotices with the real
 * `@aws-sdk/client-ecs` against a fake ECS JSON endpoint on 127.0.0.1 and a local webhook
 * receiver): a stopped scheduled task with exit code 1 is recorded without anyone running
 * `task list`, notified once, and not again while ECS keeps reporting it — also after a restart.
 */
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino } from 'pino';
import { createEcsTaskRunner } from '../../src/providers/aws/engine/ecs-tasks.js';
import { ScheduledRunNotices } from '../../src/daemon/task-notices.js';
import { listTasks } from '../../src/operations/tasks.js';
import { Notifier } from '../../src/providers/notify/notifier.js';
import { StateStore } from '../../src/state/store.js';
import { testDeps } from '../helpers/deps.js';
import { app, stage } from '../helpers/models.js';
import { webhookReceiver } from '../helpers/receivers.js';
import { checkpointText, fakeStack, org, ref, stackOutputs } from '../providers/aws/engine/fake-stack.js';
import { DUMMY_CREDENTIALS, fakeAws } from '../providers/aws/engine/fake-aws.js';
import { realClock, realSleep } from '../../src/sleep.js';

const td = 'arn:aws:ecs:eu-central-1:123456789012:task-definition/acme-shop-production-web:7';
const arn = (id: string) => `arn:aws:ecs:eu-central-1:123456789012:task/acme-shop-production/${id}`;

t.test('a failed ECS scheduled run is recorded and notified once by the daemon', async (t) => {
  const hook = await webhookReceiver(t);
  const model = stage({
    name: ref.stage,
    organization: org,
    notifications: { ops: { type: 'webhook', target: hook.url, events: ['task.failed'] } },
    apps: { web: app({ image: 'ghcr.io/acme/web:2.0.0', schedules: { nightly: { cron: '0 3 * * *', command: 'bin/cleanup' } } }) },
  });
  const now = Math.floor(Date.now() / 1000);
  const ecs = await fakeAws(t, (req) => {
    if (req.target.endsWith('.ListTasks')) return { body: { taskArns: req.body.desiredStatus === 'STOPPED' ? [arn('run9')] : [] } };
    const run9 = { taskArn: arn('run9'), group: 'schedule:nightly', lastStatus: 'STOPPED', createdAt: now - 120, startedAt: now - 110, stoppedAt: now - 50, stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', overrides: { containerOverrides: [{ name: 'web', command: ['/bin/sh', '-c', 'bin/cleanup'] }] }, containers: [{ name: 'web', exitCode: 1 }] };
    return { body: { tasks: [run9], failures: [] } };
  });
  const runner = createEcsTaskRunner({ region: 'eu-central-1', client: { endpoint: ecs.url, credentials: DUMMY_CREDENTIALS, maxAttempts: 1 }, sleep: async () => {} });
  const s = await fakeStack(t, { engine: { taskRunner: runner } });
  mkdirSync(dirname(s.checkpoint), { recursive: true });
  writeFileSync(s.checkpoint, checkpointText(stackOutputs(model, { web: { taskDefinitionArn: td, logGroup: '/setops/acme/shop/production/web' } })));
  await new StateStore(s.stateDir).write(ref, model);

  const deps = testDeps({ clock: realClock, sleep: realSleep });
  const notifier = new Notifier({ log: pino({ level: 'silent' }), sleep: async () => {} });
  const daemon = () => new ScheduledRunNotices({ deps, stateDir: s.stateDir, notifier, configRoot: () => s.stateDir, owns: () => true, engineFactory: async () => s.engine });
  const signal = new AbortController().signal;
  const first = daemon();
  t.equal(await first.check(signal), 1);
  t.equal(await first.check(signal), 0, 'ECS still reports the run: not notified again');
  t.equal(await daemon().check(signal), 0, 'nor by a restarted daemon');
  await notifier.drain();

  const [record] = await listTasks(s.stateDir, ref);
  t.match(record, { id: /-run9$/, startedBy: 'schedule nightly (EventBridge Scheduler)', status: 'failed', exitCode: 1, notifiedAt: String });
  t.equal(hook.posts.length, 1);
  t.match(JSON.parse(hook.posts[0]!.body), {
    event: 'task.failed',
    stage: 'acme/shop/production',
    data: { app: 'web', schedule: 'nightly', task: record!.id, exitCode: 1, reason: 'Essential container in task exited', log: 'cloudwatch /setops/acme/shop/production/web web/web/run9' },
  });
  t.ok(ecs.requests.filter((r) => r.target.endsWith('.ListTasks')).length >= 3, 'every check asked ECS');
});
