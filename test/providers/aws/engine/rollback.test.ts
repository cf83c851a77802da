/**
 * A deployment the ECS circuit breaker rolled back: Pulumi reports success, the engine reports a
 * failed deployment naming the apps, and the desired model is never recorded as applied.
 */
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { StateStore } from '../../../../src/state/store.js';
import { app, stage } from '../../../helpers/models.js';
import { checkpointText, fakeStack, org, ref, stackOutputs } from './fake-stack.js';

const previous = stage({ name: ref.stage, organization: org, apps: { web: app({ image: 'ghcr.io/acme/web:1.0.0' }), worker: app({ image: 'ghcr.io/acme/worker:1.0.0' }) } });
const desired = stage({ name: ref.stage, organization: org, apps: { web: app({ image: 'ghcr.io/acme/web:2.0.0' }), worker: app({ image: 'ghcr.io/acme/worker:2.0.0' }) } });
const td = (family: string, n: number): string => `arn:aws:ecs:eu-central-1:123456789012:task-definition/acme-shop-production-${family}:${n}`;

t.test('a rolled-back app fails the deployment; the stack and the index keep its previous model', async (t) => {
  const s = await fakeStack(t);
  mkdirSync(dirname(s.checkpoint), { recursive: true });
  writeFileSync(s.checkpoint, checkpointText(stackOutputs(previous, { web: { deployedTaskDefinitionArn: td('web', 1), rolledBack: false } })));
  // What the AWS program records when web rolled back and worker went through (recorded-model.ts).
  const recorded = { ...desired, apps: { ...desired.apps, web: previous.apps.web! } };
  const after = stackOutputs(recorded, {
    web: { service: 'web', taskDefinitionArn: td('web', 2), deployedTaskDefinitionArn: td('web', 1), rolledBack: true },
    worker: { service: 'worker', taskDefinitionArn: td('worker', 2), deployedTaskDefinitionArn: td('worker', 2), rolledBack: false },
  });
  s.script([{ when: 'up', writes: [{ path: s.checkpoint, text: checkpointText(after, '2026-01-02T00:00:00Z') }] }]);

  const result = await s.engine.apply(desired, { ref, changes: [] }, s.io());
  t.equal(result.status, 'failed');
  t.match(result.error, { name: 'EngineError', code: 'E_AWS_ROLLED_BACK' });
  t.equal(
    result.error?.message,
    'app/web in acme/shop/production: the new version failed its health checks and ECS rolled back to the previous task definition; ' +
      'see setopsd logs --stage acme/shop/production --app web for why the new tasks stopped, fix it and apply again (the change stays in the plan until it rolls out)',
  );
  t.same(result.error?.data.apps, [{ app: 'web', requested: td('web', 2), running: td('web', 1) }]);
  t.same(result.actual.model, recorded, 'the result carries what the stack recorded');
  t.same((await s.engine.read(ref)).model?.apps.web, previous.apps.web, 'read: web as it was, so the next plan shows its change again');
  t.same((await new StateStore(s.stateDir).read(ref)).model, recorded, 'the index never holds the desired model');
});

t.test('several rolled-back apps are named together; a program that records the desired model is not indexed as applied', async (t) => {
  const s = await fakeStack(t);
  const after = stackOutputs(desired, {
    web: { taskDefinitionArn: td('web', 2), deployedTaskDefinitionArn: td('web', 1), rolledBack: true },
    worker: { taskDefinitionArn: td('worker', 2), deployedTaskDefinitionArn: td('worker', 1), rolledBack: true },
  });
  s.script([{ when: 'up', writes: [{ path: s.checkpoint, text: checkpointText(after) }] }]);
  const result = await s.engine.apply(desired, { ref, changes: [] }, s.io());
  t.equal(result.status, 'failed');
  t.match(result.error?.message, /^app\/web, app\/worker in acme\/shop\/production: the new versions failed their health checks and ECS rolled back/);
  t.match(result.error?.message, /setopsd logs --stage acme\/shop\/production --app web and setopsd logs --stage acme\/shop\/production --app worker/);
  const indexed = (await new StateStore(s.stateDir).read(ref)).model;
  t.same(indexed?.apps, {}, 'both apps left out of the index: nothing of them rolled out and nothing was recorded before');
});

t.test('an update without rollbacks succeeds and is indexed as desired', async (t) => {
  const s = await fakeStack(t);
  const after = stackOutputs(desired, { web: { deployedTaskDefinitionArn: td('web', 2), taskDefinitionArn: td('web', 2), rolledBack: false } });
  s.script([{ when: 'up', writes: [{ path: s.checkpoint, text: checkpointText(after) }] }]);
  const result = await s.engine.apply(desired, { ref, changes: [] }, s.io());
  t.equal(result.status, 'succeeded', result.error?.message ?? 'succeeded');
  t.same((await new StateStore(s.stateDir).read(ref)).model, desired);
});
