/**
 * The daemon's notices through its reconcile contract (`reconcileStage` with a fake engine, a real
 * Notifier and a local webhook receiver): a plan that waits for approval is announced once, with
 * its plan id and the approve command; a stage that stalls is announced once, when it stalls.
 */
import t from 'tap';
import { pino } from 'pino';
import { EngineError } from '../../src/errors.js';
import { stageKey, type StageModel } from '../../src/model/stage-model.js';
import type { SecretResolver } from '../../src/providers/engine.js';
import { Notifier } from '../../src/providers/notify/notifier.js';
import { planId, reconcileStage, type DesiredSnapshot, type ReconcileContext } from '../../src/operations/reconcile-stage.js';
import { hashOf } from '../../src/model/canonical.js';
import { testDeps } from '../helpers/deps.js';
import { fakeEngine, fakePlanner } from '../operations/apply-fakes.js';
import { tempDir } from '../helpers/temp.js';
import { app, stage } from '../helpers/models.js';
import { webhookReceiver } from '../helpers/receivers.js';

const secrets: SecretResolver = {
  get: async (name) => {
    throw new EngineError(`secret "${name}" is not set`, { code: 'E_SECRET_MISSING' });
  },
};
const signal = new AbortController().signal;

function context(t: { teardown(fn: () => unknown): void }, engine: ReturnType<typeof fakeEngine>, notifier: Notifier, models: StageModel[]): ReconcileContext {
  const snapshot: DesiredSnapshot = { commit: 'c1', ref: 'main', configRoot: '/nowhere', stages: new Map(models.map((m) => [stageKey({ organization: m.organization.name, project: m.project.name, stage: m.stage.name }), m])) };
  return { deps: testDeps(), stateDir: tempDir(t, 'setopsd-notices-'), desired: () => snapshot, engineOf: async () => engine, secretsFor: () => secrets, planner: fakePlanner, approved: () => false, notifier };
}

t.test('a plan waiting for approval is announced once, with its plan id and the approve command', async (t) => {
  const hook = await webhookReceiver(t);
  const notifier = new Notifier({ log: pino({ level: 'silent' }), sleep: async () => {} });
  const model = stage({ name: 'production', approval: 'manual', notifications: { ops: { type: 'webhook', target: hook.url } }, apps: { web: app() } });
  const ctx = context(t, fakeEngine(), notifier, [model]);
  await reconcileStage(ctx, 'acme/shop/production', signal);
  await reconcileStage(ctx, 'acme/shop/production', signal); // the same plan still waits: no second notice
  await notifier.drain();
  t.equal(hook.posts.length, 1);
  const id = planId('acme/shop/production', hashOf(model), null);
  const body = JSON.parse(hook.posts[0]!.body);
  t.match(body, { event: 'approval.waiting', stage: 'acme/shop/production', data: { planId: id, command: `setopsd approve acme/shop/production --plan ${id}`, dataLoss: false } });
  t.match(body.text, new RegExp(`Approve: setopsd approve acme/shop/production --plan ${id}`));
});

t.test('a stage that stalls is announced once, when it stalls; each failed deployment is announced too', async (t) => {
  const hook = await webhookReceiver(t);
  const notifier = new Notifier({ log: pino({ level: 'silent' }), sleep: async () => {} });
  const model = stage({ name: 'staging', notifications: { ops: { type: 'webhook', target: hook.url } }, apps: { web: app() } });
  const ctx = context(t, fakeEngine({ failAt: { 'acme/shop/staging': 'app/web' } }), notifier, [model]);
  for (let i = 0; i < 4; i++) await t.rejects(reconcileStage(ctx, 'acme/shop/staging', signal));
  await notifier.drain();
  const events = hook.posts.map((p) => JSON.parse(p.body).event);
  t.same(events.filter((e: string) => e === 'deployment.failed').length, 4);
  t.same(events.filter((e: string) => e === 'stage.stalled').length, 1);
  const stalled = hook.posts.map((p) => JSON.parse(p.body)).find((b) => b.event === 'stage.stalled');
  t.match(stalled, { data: { failures: 3, error: { code: 'E_ENGINE' }, command: 'setopsd retry acme/shop/staging' } });
});
