/**
 * The daemon's reconcile contract: `reconcileStage(ctx, key, signal) → { requeueAfterMs? }` or
 * a thrown error whose `retryable` tells the queue whether to back off. It reads the newest
 * desired snapshot itself, holds plans that need a person, and writes the status record.
 */
import t from 'tap';
import { join } from 'node:path';
import { EngineError } from '../../src/errors.js';
import { stageKey, type StageModel } from '../../src/model/stage-model.js';
import type { SecretResolver } from '../../src/providers/engine.js';
import { planId, reconcileStage, type DesiredSnapshot, type ReconcileContext } from '../../src/operations/reconcile-stage.js';
import { planner } from '../../src/operations/jobs.js';
import { Journal } from '../../src/state/journal.js';
import { StatusRecords } from '../../src/state/status-record.js';
import { testDeps } from '../helpers/deps.js';
import { fakeEngine, fakePlanner } from './apply-fakes.js';
import { tempDir } from '../helpers/temp.js';
import { app, service, stage } from '../helpers/models.js';

const secrets: SecretResolver = {
  get: async (name) => {
    throw new EngineError(`secret "${name}" is not set`, { code: 'E_SECRET_MISSING' });
  },
};

async function setup(t: { teardown(fn: () => unknown): void }, engine = fakeEngine(), over: Partial<ReconcileContext> = {}) {
  const stateDir = tempDir(t, 'setopsd-reconcile-');
  let snapshot: DesiredSnapshot = { commit: 'c1', ref: 'main', configRoot: '/nowhere', stages: new Map() };
  const approvals = new Set<string>();
  const ctx: ReconcileContext = {
    deps: testDeps(),
    stateDir,
    desired: () => snapshot,
    engineOf: async () => engine,
    secretsFor: () => secrets,
    planner: fakePlanner,
    approved: (stage, id) => approvals.has(`${stage} ${id}`),
    ...over,
  };
  const publish = (commit: string, ...models: StageModel[]) => {
    snapshot = { commit, ref: 'main', configRoot: '/nowhere', stages: new Map(models.map((m) => [stageKey({ organization: m.organization.name, project: m.project.name, stage: m.stage.name }), m])) };
  };
  const status = (stage: string) => new StatusRecords(stateDir, () => 0).read({ organization: 'acme', project: 'shop', stage });
  return { ctx, engine, publish, status, approvals, invalid: (issues: DesiredSnapshot['issues']) => (snapshot = { commit: 'bad', ref: 'main', configRoot: '/nowhere', stages: null, issues }) };
}

const signal = new AbortController().signal;

t.test('converges to the newest snapshot, read when the reconcile runs (commits coalesce)', async (t) => {
  const { ctx, engine, publish, status } = await setup(t);
  publish('c1', stage({ name: 'staging', apps: { web: app({ scale: 1 }) } }));
  publish('c2', stage({ name: 'staging', apps: { web: app({ scale: 2 }) } })); // arrived before the queue ran the key
  t.same(await reconcileStage(ctx, 'acme/shop/staging', signal), {});
  t.same(engine.calls, ['apply acme/shop/staging'], 'one apply, of the newest commit');
  t.equal(engine.states.get('acme/shop/staging')?.model?.apps.web?.scale, 2);
  t.match(await status('staging'), { state: 'ready', lastAppliedRevision: 'c2', lastAttemptedRevision: 'c2', failures: 0 });
  const [entry] = await new Journal(ctx.stateDir, { organization: 'acme', project: 'shop', stage: 'staging' }, () => 0).list();
  t.match(entry, { trigger: 'daemon', commit: 'c2', status: 'succeeded' });

  t.same(await reconcileStage(ctx, 'acme/shop/staging', signal), {}, 'in sync: nothing to do');
  t.equal(engine.calls.length, 1);
});

t.test('an invalid commit applies nothing: a terminal ValidationError with its issues', async (t) => {
  const { ctx, engine, invalid } = await setup(t);
  invalid([{ file: 'setops.yaml', line: 3, col: 5, pointer: '/spec/port', message: 'port must be ≤ 65535' }]);
  await t.rejects(reconcileStage(ctx, 'acme/shop/staging', signal), { code: 'E_VALIDATION', retryable: false, issues: [{ file: 'setops.yaml', line: 3 }] });
  t.same(engine.calls, []);
});

t.test('an engine failure is thrown retryable; 3 failures on one desired state stall the stage', async (t) => {
  const { ctx, publish, status } = await setup(t, fakeEngine({ failAt: { 'acme/shop/staging': 'app/web' } }));
  publish('c1', stage({ name: 'staging', apps: { web: app() } }));
  for (const n of [1, 2]) {
    await t.rejects(reconcileStage(ctx, 'acme/shop/staging', signal), { code: 'E_ENGINE', retryable: true });
    t.match(await status('staging'), { state: 'failed', reason: 'E_ENGINE', failures: n });
  }
  await t.rejects(reconcileStage(ctx, 'acme/shop/staging', signal), { code: 'E_ENGINE', retryable: true });
  t.match(await status('staging'), { state: 'stalled', failures: 3, lastAttemptedRevision: 'c1', lastAppliedRevision: null });
  publish('c2', stage({ name: 'staging', apps: { web: app({ scale: 2 }) } }));
  await t.rejects(reconcileStage(ctx, 'acme/shop/staging', signal), { code: 'E_ENGINE', retryable: true });
  t.match(await status('staging'), { state: 'failed', failures: 1 }, 'a new desired state starts counting again');
});

t.test('a missing secret is terminal and nothing is deployed', async (t) => {
  const { ctx, engine, publish, status } = await setup(t);
  publish('c1', stage({ name: 'staging', apps: { web: app({ env: { K: { secret: 'missing' } } }) } }));
  await t.rejects(reconcileStage(ctx, 'acme/shop/staging', signal), { code: 'E_SECRET_MISSING', retryable: false });
  t.same(engine.calls, []);
  t.match(await status('staging'), { state: 'failed', reason: 'E_SECRET_MISSING' });
});

t.test('approval: manual holds the plan under an id that unrelated commits do not change; approving applies exactly it', async (t) => {
  const { ctx, engine, publish, status, approvals } = await setup(t);
  const manual = (scale: number) => stage({ name: 'production', approval: 'manual', apps: { web: app({ scale }) } });
  publish('c1', manual(3));
  t.same(await reconcileStage(ctx, 'acme/shop/production', signal), {});
  t.same(engine.calls, [], 'nothing applied');
  const waiting = await status('production');
  t.match(waiting, { state: 'waiting-approval', reason: 'manual-approval', message: /setopsd approve acme\/shop\/production --plan [0-9a-f]{12}/ });
  const id = waiting!.pendingPlan!.id;

  publish('c2', manual(3)); // a commit that changes nothing of this stage
  await reconcileStage(ctx, 'acme/shop/production', signal);
  t.equal((await status('production'))!.pendingPlan!.id, id, 'same stage, desired state and actual serial: same plan id');

  approvals.add(`acme/shop/production ${id}`);
  await reconcileStage(ctx, 'acme/shop/production', signal);
  t.same(engine.calls, ['apply acme/shop/production']);
  t.match(await status('production'), { state: 'ready', lastAppliedRevision: 'c2' });

  publish('c3', manual(5));
  await reconcileStage(ctx, 'acme/shop/production', signal);
  t.equal(engine.calls.length, 1, 'a new desired state needs a new approval: the old one does not carry over');
  t.not((await status('production'))!.pendingPlan!.id, id);
  t.equal(planId('acme/shop/production', 'h', '1'), planId('acme/shop/production', 'h', '1'));
  t.not(planId('acme/shop/production', 'h', '1'), planId('acme/shop/production', 'h', '2'));
});

t.test('data loss always waits for approval, also on an approval: auto stage; a protected stage is refused outright', async (t) => {
  const engine = fakeEngine();
  const { ctx, publish, status, approvals } = await setup(t, engine, { planner });
  const withDb = (over: { protected?: boolean } = {}) => stage({ name: 'staging', ...over, apps: { web: app() }, services: { database: service('postgresql', { plan: 'small' }) } });
  engine.states.set('acme/shop/staging', { model: withDb(), serial: '1' });
  publish('c1', stage({ name: 'staging', apps: { web: app() } })); // the database is gone from the manifests
  await reconcileStage(ctx, 'acme/shop/staging', signal);
  const rec = await status('staging');
  t.match(rec, { state: 'waiting-approval', reason: 'data-loss', pendingPlan: { dataLoss: true, actualSerial: '1' } });
  t.same(engine.calls, []);
  approvals.add(`acme/shop/staging ${rec!.pendingPlan!.id}`);
  await reconcileStage(ctx, 'acme/shop/staging', signal);
  t.same(engine.calls, ['apply acme/shop/staging'], 'applied once approved, with data loss allowed');

  engine.states.set('acme/shop/staging', { model: withDb({ protected: true }), serial: '5' });
  publish('c2', stage({ name: 'staging', protected: true, apps: { web: app() } }));
  await t.rejects(reconcileStage(ctx, 'acme/shop/staging', signal), { code: 'E_UNSAFE_PLAN', retryable: false }, 'refused, not held for approval');
});

t.test('a pinned stage is planned, not applied: its status says where it is pinned and what waits', async (t) => {
  const { ctx, engine, publish, status } = await setup(t);
  const { StagePins } = await import('../../src/state/pin.js');
  await new StagePins(ctx.stateDir).write({ formatVersion: 1, stage: 'acme/shop/staging', deployment: 4, desiredHash: null, commit: 'c0', reason: 'rollback', since: '1970-01-01T00:00:00.000Z' });
  publish('c1', stage({ name: 'staging', apps: { web: app() } }));
  t.same(await reconcileStage({ ...ctx, commitsAhead: async (from, head) => (from === 'c0' && head === 'c1' ? 1 : null) }, 'acme/shop/staging', signal), {});
  t.same(engine.calls, [], 'nothing applied');
  t.match(await status('staging'), { state: 'pinned', message: /^pinned at #4 \(a rollback\), the branch is 1 commit ahead; 2 changes wait; `setopsd unpin acme\/shop\/staging` lets the branch apply$/ });
});

t.test('a stage gone from the manifests that holds data gets a destroy plan that waits for approval', async (t) => {
  const engine = fakeEngine();
  const { ctx, publish, status, approvals } = await setup(t, engine, { planner });
  const gone = stage({ name: 'preview', apps: { web: app() }, services: { database: service('postgresql', { plan: 'small' }) } });
  engine.states.set('acme/shop/preview', { model: gone, serial: '3' });
  const { StateStore } = await import('../../src/state/store.js');
  await new StateStore(ctx.stateDir).write({ organization: 'acme', project: 'shop', stage: 'preview' }, gone);
  publish('c1', stage({ name: 'staging', apps: { web: app() } }));
  t.same(await reconcileStage(ctx, 'acme/shop/preview', signal), {});
  const rec = await status('preview');
  t.match(rec, { state: 'waiting-approval', reason: 'data-loss', desiredHash: null, pendingPlan: { dataLoss: true } });
  t.same(engine.calls, [], 'not destroyed without approval');
  approvals.add(`acme/shop/preview ${rec!.pendingPlan!.id}`);
  await reconcileStage(ctx, 'acme/shop/preview', signal);
  t.same(engine.calls, ['destroy acme/shop/preview'], 'destroyed once approved');
});
