/**
 * `setopsd task list` on AWS records the runs of scheduled tasks: EventBridge Scheduler starts
 * them as ECS tasks of the app's task definition in group `schedule:NAME`, so ECS's ListTasks
 * (running and stopped, by the app's family) and DescribeTasks tell each run's command, times
 * and exit code (the real `@aws-sdk/client-ecs` against a fake ECS JSON endpoint on 127.0.0.1).
 * Other tasks of the family (the ECS service's, one-off runs) are not scheduled runs. Records
 * stay after ECS forgot the task. A run of a schedule with timeout that was stopped at its timeout
 * is failed with a reason that says so.
 */
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createEcsTaskRunner, type EcsTaskSummary } from '../../src/providers/aws/engine/ecs-tasks.js';
import { scheduledRunOutcome, TIMEOUT_LEAD_MS } from '../../src/providers/aws/engine/scheduled-run-outcome.js';
import { listTasks, recordScheduledRuns } from '../../src/operations/tasks.js';
import { StateStore } from '../../src/state/store.js';
import { testDeps } from '../helpers/deps.js';
import { app, stage } from '../helpers/models.js';
import { checkpointText, fakeStack, org, ref, stackOutputs } from '../providers/aws/engine/fake-stack.js';
import { DUMMY_CREDENTIALS, fakeAws } from '../providers/aws/engine/fake-aws.js';

const td = 'arn:aws:ecs:eu-central-1:123456789012:task-definition/acme-shop-production-web:7';
const task = (id: string) => `arn:aws:ecs:eu-central-1:123456789012:task/acme-shop-production/${id}`;
const model = stage({
  name: ref.stage,
  organization: org,
  apps: {
    web: app({ image: 'ghcr.io/acme/web:2.0.0', schedules: { nightly: { cron: '0 3 * * *', command: 'bin/cleanup' } } }),
    api: app({ image: 'ghcr.io/acme/api:2.0.0' }),
  },
});
const t0 = Date.parse('2026-01-01T03:00:00Z') / 1000;

t.test('task list records the scheduled runs ECS knows, with command, exit code and times; only group schedule:NAME', async (t) => {
  let forgotten = false;
  const ecs = await fakeAws(t, (req) => {
    if (req.target.endsWith('.ListTasks')) {
      if (forgotten) return { body: { taskArns: [] } };
      if (req.body.desiredStatus === 'RUNNING') return { body: { taskArns: [task('run2'), task('svc1')] } };
      return req.body.nextToken ? { body: { taskArns: [task('run0')] } } : { body: { taskArns: [task('run1')], nextToken: 'page-2' } };
    }
    const all: Record<string, unknown> = {
      run0: { taskArn: task('run0'), group: 'schedule:nightly', lastStatus: 'STOPPED', startedBy: 'chronos-schedule', createdAt: t0 - 86_400, startedAt: t0 - 86_390, stoppedAt: t0 - 86_300, stoppedReason: 'Essential container in task exited', overrides: { containerOverrides: [{ name: 'web', command: ['/bin/sh', '-c', 'bin/cleanup'] }] }, containers: [{ name: 'web', exitCode: 1 }] },
      run1: { taskArn: task('run1'), group: 'schedule:nightly', lastStatus: 'STOPPED', createdAt: t0, startedAt: t0 + 10, stoppedAt: t0 + 70, stoppedReason: 'Essential container in task exited', overrides: { containerOverrides: [{ name: 'web', command: ['/bin/sh', '-c', 'bin/cleanup'] }] }, containers: [{ name: 'web', exitCode: 0 }] },
      run2: { taskArn: task('run2'), group: 'schedule:nightly', lastStatus: 'RUNNING', createdAt: t0 + 3600, startedAt: t0 + 3605, overrides: { containerOverrides: [{ name: 'web', command: ['/bin/sh', '-c', 'bin/cleanup'] }] }, containers: [{ name: 'web' }] },
      svc1: { taskArn: task('svc1'), group: 'service:acme-shop-production-web', lastStatus: 'RUNNING', startedBy: 'ecs-svc/123', createdAt: t0, containers: [{ name: 'web' }] },
    };
    return { body: { tasks: (req.body.tasks as string[]).map((arn) => all[arn.slice(arn.lastIndexOf('/') + 1)]), failures: [] } };
  });
  const runner = createEcsTaskRunner({ region: 'eu-central-1', client: { endpoint: ecs.url, credentials: DUMMY_CREDENTIALS, maxAttempts: 1 }, sleep: async () => {} });
  const s = await fakeStack(t, { engine: { taskRunner: runner } });
  mkdirSync(dirname(s.checkpoint), { recursive: true });
  writeFileSync(s.checkpoint, checkpointText(stackOutputs(model, { web: { taskDefinitionArn: td, logGroup: '/setops/acme/shop/production/web' }, api: { taskDefinitionArn: td.replace('web', 'api') } })));
  await new StateStore(s.stateDir).write(ref, model);
  const req = { stateDir: s.stateDir, ref, engineOf: async () => s.engine };

  t.same(await recordScheduledRuns(testDeps(), req, new AbortController().signal), { recorded: 3 });
  t.same(
    ecs.requests.filter((r) => r.target.endsWith('.ListTasks')).map((r) => r.body),
    [
      { cluster: 'acme-shop-production', family: 'acme-shop-production-web', desiredStatus: 'RUNNING' },
      { cluster: 'acme-shop-production', family: 'acme-shop-production-web', desiredStatus: 'STOPPED' },
      { cluster: 'acme-shop-production', family: 'acme-shop-production-web', desiredStatus: 'STOPPED', nextToken: 'page-2' },
    ],
    'only the app with schedules, by its family, running and stopped, every page',
  );
  const tasks = await listTasks(s.stateDir, ref);
  t.same(
    tasks.map((r) => ({ id: r.id, status: r.status, exitCode: r.exitCode, startedAt: r.startedAt, durationMs: r.durationMs, startedBy: r.startedBy, command: r.command, log: r.log })),
    [
      { id: '20260101T040005Z-run2', status: 'running', exitCode: null, startedAt: '2026-01-01T04:00:05.000Z', durationMs: undefined, startedBy: 'schedule nightly (EventBridge Scheduler)', command: ['/bin/sh', '-c', 'bin/cleanup'], log: 'cloudwatch /setops/acme/shop/production/web web/web/run2' },
      { id: '20260101T030010Z-run1', status: 'succeeded', exitCode: 0, startedAt: '2026-01-01T03:00:10.000Z', durationMs: 60_000, startedBy: 'schedule nightly (EventBridge Scheduler)', command: ['/bin/sh', '-c', 'bin/cleanup'], log: 'cloudwatch /setops/acme/shop/production/web web/web/run1' },
      { id: '20251231T030010Z-run0', status: 'failed', exitCode: 1, startedAt: '2025-12-31T03:00:10.000Z', durationMs: 90_000, startedBy: 'schedule nightly (EventBridge Scheduler)', command: ['/bin/sh', '-c', 'bin/cleanup'], log: 'cloudwatch /setops/acme/shop/production/web web/web/run0' },
    ],
    'newest first; the ECS service task is not a scheduled run',
  );

  forgotten = true;
  t.same(await recordScheduledRuns(testDeps(), req, new AbortController().signal), { recorded: 0 });
  t.equal((await listTasks(s.stateDir, ref)).length, 3, 'runs ECS forgot stay recorded');
});

t.test('ECS that cannot be asked: reported, not thrown; the local engine has nothing to ask', async (t) => {
  const ecs = await fakeAws(t, () => ({ status: 400, body: { __type: 'AccessDeniedException', message: 'not authorized to perform: ecs:ListTasks' } }));
  const runner = createEcsTaskRunner({ region: 'eu-central-1', client: { endpoint: ecs.url, credentials: DUMMY_CREDENTIALS, maxAttempts: 1 }, sleep: async () => {} });
  const s = await fakeStack(t, { engine: { taskRunner: runner } });
  mkdirSync(dirname(s.checkpoint), { recursive: true });
  writeFileSync(s.checkpoint, checkpointText(stackOutputs(model, { web: { taskDefinitionArn: td } })));
  await new StateStore(s.stateDir).write(ref, model);
  const seen = await recordScheduledRuns(testDeps(), { stateDir: s.stateDir, ref, engineOf: async () => s.engine }, new AbortController().signal);
  t.equal(seen.recorded, 0);
  t.match(seen.error, /app\/web in acme\/shop\/production: ECS ListTasks failed: AccessDeniedException: not authorized to perform: ecs:ListTasks/);

  const local = stage({ name: 'staging', apps: { web: app({ schedules: { nightly: { cron: '0 3 * * *', command: 'x' } } }) } });
  await new StateStore(s.stateDir).write({ ...ref, organization: local.organization.name, stage: 'staging' }, local);
  t.same(await recordScheduledRuns(testDeps(), { stateDir: s.stateDir, ref: { organization: local.organization.name, project: local.project.name, stage: 'staging' }, engineOf: async () => t.fail('no engine is asked') as never }, new AbortController().signal), { recorded: 0 });
});

t.test('a run of a schedule with timeout that Step Functions stopped at the timeout is failed, stopped: timeout, with ECS reason kept', async (t) => {
  const timed = stage({
    name: ref.stage,
    organization: org,
    apps: { web: app({ image: 'ghcr.io/acme/web:2.0.0', schedules: { nightly: { cron: '0 3 * * *', command: 'bin/cleanup', timeout: 600 }, hourly: { cron: '0 * * * *', command: 'bin/tick' } } }) },
  });
  const cmd = { overrides: { containerOverrides: [{ name: 'web', command: ['/bin/sh', '-c', 'bin/cleanup'] }] } };
  // ECS's record of a StopTask: stop code UserInitiated, the caller's reason (here ECS's wording for none).
  const byStopTask = { stopCode: 'UserInitiated', stoppedReason: 'Task stopped by user' };
  const tasks: Record<string, Record<string, unknown>> = {
    // Stopped at the timeout: stopping 598 s after ECS created it (the state's timer started a moment earlier).
    late: { group: 'schedule:nightly', lastStatus: 'STOPPED', createdAt: t0, startedAt: t0 + 20, stoppingAt: t0 + 598, stoppedAt: t0 + 628, ...byStopTask, ...cmd, containers: [{ name: 'web', exitCode: 137 }] },
    // Stopped at the timeout, but the process caught SIGTERM and exited 0: still not a success.
    trapped: { group: 'schedule:nightly', lastStatus: 'STOPPED', createdAt: t0 + 86_400, startedAt: t0 + 86_415, stoppingAt: t0 + 87_000, stoppedAt: t0 + 87_001, ...byStopTask, ...cmd, containers: [{ name: 'web', exitCode: 0 }] },
    // Stopped by hand a minute in: not the timeout.
    early: { group: 'schedule:nightly', lastStatus: 'STOPPED', createdAt: t0 + 2 * 86_400, startedAt: t0 + 2 * 86_400 + 10, stoppingAt: t0 + 2 * 86_400 + 60, stoppedAt: t0 + 2 * 86_400 + 65, ...byStopTask, ...cmd, containers: [{ name: 'web', exitCode: 143 }] },
    // Ended by itself within the timeout.
    quick: { group: 'schedule:nightly', lastStatus: 'STOPPED', createdAt: t0 + 3 * 86_400, startedAt: t0 + 3 * 86_400 + 10, stoppingAt: t0 + 3 * 86_400 + 70, stoppedAt: t0 + 3 * 86_400 + 71, stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', ...cmd, containers: [{ name: 'web', exitCode: 0 }] },
    // A schedule without timeout has no time limit on AWS: a long run stopped by hand is only that.
    long: { group: 'schedule:hourly', lastStatus: 'STOPPED', createdAt: t0, startedAt: t0 + 10, stoppingAt: t0 + 7200, stoppedAt: t0 + 7201, ...byStopTask, overrides: { containerOverrides: [{ name: 'web', command: ['/bin/sh', '-c', 'bin/tick'] }] }, containers: [{ name: 'web', exitCode: 143 }] },
  };
  const ecs = await fakeAws(t, (req) => {
    if (req.target.endsWith('.ListTasks')) return { body: { taskArns: req.body.desiredStatus === 'STOPPED' ? Object.keys(tasks).map(task) : [] } };
    return { body: { tasks: (req.body.tasks as string[]).map((arn) => ({ taskArn: arn, ...tasks[arn.slice(arn.lastIndexOf('/') + 1)] })), failures: [] } };
  });
  const runner = createEcsTaskRunner({ region: 'eu-central-1', client: { endpoint: ecs.url, credentials: DUMMY_CREDENTIALS, maxAttempts: 1 }, sleep: async () => {} });
  const s = await fakeStack(t, { engine: { taskRunner: runner } });
  mkdirSync(dirname(s.checkpoint), { recursive: true });
  writeFileSync(s.checkpoint, checkpointText(stackOutputs(timed, { web: { taskDefinitionArn: td, logGroup: '/setops/acme/shop/production/web' } })));
  await new StateStore(s.stateDir).write(ref, timed);

  t.same(await recordScheduledRuns(testDeps(), { stateDir: s.stateDir, ref, engineOf: async () => s.engine }, new AbortController().signal), { recorded: 5 });
  const byId = Object.fromEntries((await listTasks(s.stateDir, ref)).map((r) => [r.id.slice(r.id.lastIndexOf('-') + 1), { status: r.status, exitCode: r.exitCode, stopped: r.stopped, reason: r.reason }]));
  t.same(byId, {
    late: { status: 'failed', exitCode: 137, stopped: 'timeout', reason: 'stopped after its timeout of 600 s (ECS: Task stopped by user)' },
    trapped: { status: 'failed', exitCode: 0, stopped: 'timeout', reason: 'stopped after its timeout of 600 s (ECS: Task stopped by user)' },
    early: { status: 'failed', exitCode: 143, stopped: undefined, reason: 'Task stopped by user' },
    quick: { status: 'succeeded', exitCode: 0, stopped: undefined, reason: 'Essential container in task exited' },
    long: { status: 'failed', exitCode: 143, stopped: undefined, reason: 'Task stopped by user' },
  });
});

t.test('the timeout is told by the time: no sooner than the timeout less the lead after ECS created the task, by StopTask', async (t) => {
  const created = '2026-01-01T03:00:00.000Z';
  const at = (s: number) => new Date(Date.parse(created) + s * 1000).toISOString();
  const stopped = (stoppingAfterS: number, over: Partial<EcsTaskSummary> = {}): EcsTaskSummary => ({
    taskArn: task('x'), lastStatus: 'STOPPED', createdAt: created, stoppingAt: at(stoppingAfterS), stoppedAt: at(stoppingAfterS + 30), stopCode: 'UserInitiated', stoppedReason: 'r', exitCodes: { web: 143 }, ...over,
  });
  const lead = TIMEOUT_LEAD_MS / 1000;
  t.equal(scheduledRunOutcome(stopped(600 - lead), 'web', 600).stopped, 'timeout', 'at the lead');
  t.equal(scheduledRunOutcome(stopped(600 - lead - 1), 'web', 600).stopped, undefined, 'a second earlier: stopped by someone else');
  t.same(scheduledRunOutcome(stopped(600, { stopCode: 'EssentialContainerExited', exitCodes: { web: 0 } }), 'web', 600), { status: 'succeeded', exitCode: 0, reason: 'r' }, 'ended by itself at the last moment');
  t.same(scheduledRunOutcome(stopped(600, { stoppedReason: undefined }), 'web', 600), { status: 'failed', exitCode: 143, stopped: 'timeout', reason: 'stopped after its timeout of 600 s' }, 'without an ECS reason');
  t.same(scheduledRunOutcome(stopped(600, { stoppingAt: undefined }), 'web', 600).stopped, 'timeout', 'stoppedAt when ECS gave no stoppingAt');
  t.same(scheduledRunOutcome({ taskArn: task('y'), lastStatus: 'RUNNING', createdAt: created, exitCodes: {} }, 'web', 600), { status: 'running', exitCode: null });
});
