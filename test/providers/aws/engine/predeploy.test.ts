/**
 * Rollouts with `preDeploy`: an update with the running services pinned (new apps held), the
 * pre-deploy tasks, then the rollout; a failed task stops before the services move. The fake
 * Pulumi CLI and a fake TaskRunner write to one call log, so the order is the order of calls.
 */
import t, { type Test } from 'tap';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ProgramOptions } from '../../../../src/providers/aws/program/context.js';
import type { TaskRunInput, TaskRunResult } from '../../../../src/providers/aws/engine/ecs-tasks.js';
import { StateStore } from '../../../../src/state/store.js';
import { app, stage } from '../../../helpers/models.js';
import { checkpointText, fakeStack, org, ref, stackOutputs, words } from './fake-stack.js';

const td = (family: string, n: number): string => `arn:aws:ecs:eu-central-1:123456789012:task-definition/acme-shop-production-${family}:${n}`;
const migrate = { command: ['bin/migrate'] };
const previous = stage({
  name: ref.stage,
  organization: org,
  apps: { web: app({ image: 'ghcr.io/acme/web:1.0.0', preDeploy: migrate }), worker: app({ image: 'ghcr.io/acme/worker:1.0.0' }) },
});
const desired = stage({
  name: ref.stage,
  organization: org,
  apps: {
    web: app({ image: 'ghcr.io/acme/web:2.0.0', preDeploy: migrate }),
    worker: app({ image: 'ghcr.io/acme/worker:1.0.0' }),
    jobs: app({ image: 'ghcr.io/acme/jobs:1.0.0' }),
  },
});
const network = {
  cluster: 'acme-shop-production',
  preDeployTaskDefinitions: { web: td('web-predeploy', 2) },
  taskNetwork: { subnets: ['subnet-a', 'subnet-b'], securityGroups: { web: ['sg-web', 'sg-members'], worker: ['sg-worker', 'sg-members'] }, assignPublicIp: false },
};

async function setup(t: Test, result: TaskRunResult | Error) {
  const inputs: TaskRunInput[] = [];
  const programOpts: ProgramOptions[] = [];
  const nows: (number | undefined)[] = [];
  let fakeDir = '';
  const s = await fakeStack(t, {
    engine: {
      program: (_model, opts) => {
        // `now` (the injected clock) names final snapshots: kept apart from the other options.
        const { now, ...rest } = opts ?? {};
        nows.push(now);
        programOpts.push(rest);
        return async () => ({});
      },
      taskRunner: {
        async run(input) {
          inputs.push(input);
          appendFileSync(join(fakeDir, 'calls.ndjson'), JSON.stringify({ argv: ['<task>', input.container], cwd: '', env: {} }) + '\n');
          if (result instanceof Error) throw result;
          return result;
        },
      },
    },
  });
  fakeDir = s.fakeDir;
  mkdirSync(dirname(s.checkpoint), { recursive: true });
  writeFileSync(
    s.checkpoint,
    checkpointText(stackOutputs(previous, { web: { deployedTaskDefinitionArn: td('web', 1) }, worker: { deployedTaskDefinitionArn: td('worker', 1) } })),
  );
  // The first (pinned) update records web as it was and leaves jobs out (recorded-model.ts).
  const pinnedModel = { ...desired, apps: { web: previous.apps.web!, worker: desired.apps.worker! } };
  const pinnedOutputs = stackOutputs(
    pinnedModel,
    {
      web: { logGroup: '/setops/acme/shop/production/web', taskDefinitionArn: td('web', 2), deployedTaskDefinitionArn: td('web', 1), rolledBack: false },
      worker: { taskDefinitionArn: td('worker', 1), deployedTaskDefinitionArn: td('worker', 1), rolledBack: false },
      jobs: { taskDefinitionArn: td('jobs', 1), deployedTaskDefinitionArn: td('jobs', 1), rolledBack: false },
    },
    network,
  );
  const finalOutputs = stackOutputs(desired, { web: { deployedTaskDefinitionArn: td('web', 2), taskDefinitionArn: td('web', 2), rolledBack: false } }, network);
  s.script([
    { when: 'up', times: 1, writes: [{ path: s.checkpoint, text: checkpointText(pinnedOutputs, '2026-01-02T00:00:00Z') }] },
    { when: 'up', writes: [{ path: s.checkpoint, text: checkpointText(finalOutputs, '2026-01-03T00:00:00Z') }] },
  ]);
  const sequence = (): string[] => s.calls().map(words).filter((w) => w === 'up' || w.startsWith('<task>'));
  return { ...s, inputs, programOpts, nows, pinnedModel, sequence };
}

t.test('a changed app with preDeploy: pinned update, its task in the stage network, then the rollout', async (t) => {
  const s = await setup(t, { exitCode: 0, reason: 'Essential container in task exited', logStream: 'predeploy/web/abc' });
  const result = await s.engine.apply(desired, { ref, changes: [] }, s.io());
  t.equal(result.status, 'succeeded', result.error?.message ?? 'succeeded');
  t.same(s.sequence(), ['up', '<task> web', 'up'], 'up pinned → pre-deploy task → up');
  t.same(s.nows, [Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 1)], "each update's program gets the time of the engine's clock (final snapshot names)");
  t.same(s.programOpts, [
    { previousModel: previous, pinnedTaskDefinitions: { web: td('web', 1), worker: td('worker', 1) }, heldApps: ['jobs'] },
    { previousModel: previous },
  ]);
  t.same(s.inputs, [
    {
      subject: 'app/web in acme/shop/production',
      cluster: 'acme-shop-production',
      taskDefinition: td('web-predeploy', 2),
      container: 'web',
      subnets: ['subnet-a', 'subnet-b'],
      securityGroups: ['sg-web', 'sg-members'],
      assignPublicIp: false,
      logStreamPrefix: 'predeploy',
    },
  ]);
  const ups = s.calls().filter((c) => words(c) === 'up');
  t.ok(ups[0]!.argv.includes('setopsd deployment #3 (manual): new task definitions, services held for pre-deploy'));
  t.ok(ups[1]!.argv.includes('setopsd deployment #3 (manual)'));
  t.same(s.progress.filter((p) => p.subject === 'app/web').map((p) => `${p.status} ${p.message}`), ['started pre-deploy task', 'succeeded pre-deploy task exited with 0']);
  t.same((await new StateStore(s.stateDir).read(ref)).model, desired);
});

t.test('a failing pre-deploy task stops the rollout: the services never moved', async (t) => {
  const s = await setup(t, { exitCode: 3, reason: 'Essential container in task exited', logStream: 'predeploy/web/abc123', taskArn: 'arn:aws:ecs:eu-central-1:123456789012:task/acme-shop-production/abc123' });
  const result = await s.engine.apply(desired, { ref, changes: [] }, s.io());
  t.equal(result.status, 'failed');
  t.same(s.sequence(), ['up', '<task> web'], 'no second update');
  t.match(result.error, { name: 'EngineError', code: 'E_AWS_PREDEPLOY_FAILED' });
  t.equal(
    result.error?.message,
    'app/web in acme/shop/production: the pre-deploy command exited with code 3 (Essential container in task exited); the services were not updated and the previous version keeps serving. ' +
      'See its output with `aws logs tail /setops/acme/shop/production/web --log-stream-names predeploy/web/abc123`, fix it and apply again',
  );
  t.same(result.actual.model, s.pinnedModel, 'read after the failure: web as it was, jobs not deployed');
  t.same((await new StateStore(s.stateDir).read(ref)).model, s.pinnedModel, 'the index never holds the desired model');
  t.same(s.progress.filter((p) => p.subject === 'app/web').map((p) => p.status), ['started', 'failed']);
});

t.test('a pre-deploy task that cannot start, or ECS that cannot be asked, fails the same way', async (t) => {
  const s = await setup(t, { exitCode: null, reason: 'RESOURCE:ENI (no free addresses)' });
  const result = await s.engine.apply(desired, { ref, changes: [] }, s.io());
  t.match(result.error?.message, /^app\/web in acme\/shop\/production: the pre-deploy task did not run \(RESOURCE:ENI \(no free addresses\)\); the services were not updated/);
  t.equal(result.error?.retryable, true, 'a task that could not start may start next time');
  t.same(s.sequence(), ['up', '<task> web']);

  const { EngineError } = await import('../../../../src/errors.js');
  const denied = await setup(t, new EngineError('app/web in acme/shop/production: ECS RunTask failed: AccessDeniedException: no', { code: 'E_AWS_ECS' }));
  const r = await denied.engine.apply(desired, { ref, changes: [] }, denied.io());
  t.equal(r.status, 'failed');
  t.equal(r.error?.code, 'E_AWS_ECS');
  t.same(denied.sequence(), ['up', '<task> web']);
});

t.test('without a changed preDeploy: one update, no task', async (t) => {
  const s = await setup(t, { exitCode: 0, reason: '' });
  // web only scales: no new version, no migration.
  const same = stage({ name: ref.stage, organization: org, apps: { web: app({ image: 'ghcr.io/acme/web:1.0.0', preDeploy: migrate, scale: 5 }), worker: app({ image: 'ghcr.io/acme/worker:2.0.0' }) } });
  const result = await s.engine.apply(same, { ref, changes: [] }, s.io());
  t.equal(result.status, 'succeeded', result.error?.message ?? 'succeeded');
  t.same(s.sequence(), ['up']);
  t.same(s.inputs, []);
  t.same(s.programOpts, [{ previousModel: previous }]);
});

t.test('pins and held apps: running apps pinned, new apps held, an app without a recorded revision neither', async (t) => {
  const { heldFor, pinsFor } = await import('../../../../src/providers/aws/engine/rollout.js');
  const outputs = { apps: { web: { deployedTaskDefinitionArn: td('web', 1) }, worker: {} } };
  const pins = pinsFor(desired, outputs);
  t.same(pins, { web: td('web', 1) });
  t.same(heldFor(desired, previous, pins), ['jobs'], 'worker ran before: never stopped by a hold');
  t.same(heldFor(desired, null, {}), ['jobs', 'web', 'worker'], 'a first deployment holds every app until its migrations ran');
});
