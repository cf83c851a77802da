import t from 'tap';
import { selectStages } from '../../src/reconciler/stage-plan.js';
import { planStages, type EngineFactory } from '../../src/operations/plan-stages.js';
import { StateStore } from '../../src/state/store.js';
import { EngineError } from '../../src/errors.js';
import { refOf, type StageModel } from '../../src/model/stage-model.js';
import type { Engine } from '../../src/providers/engine.js';
import type { DesiredState } from '../../src/manifests/api.js';
import { tempDir } from '../helpers/temp.js';
import { testDeps } from '../helpers/deps.js';
import { app, service, stage } from '../helpers/models.js';

function desiredOf(stages: StageModel[], origins: DesiredState['origins'] = {}): DesiredState {
  return { stages, origins, counts: { organizations: 1, projects: 1, stages: stages.length, apps: 0, services: 0 } };
}

/** An engine that reads the state store and previews with a scripted result. */
function engines(stateDir: string, preview?: Engine['preview']): { factory: EngineFactory; calls: string[] } {
  const calls: string[] = [];
  const store = new StateStore(stateDir);
  const factory: EngineFactory = async (organization) => {
    calls.push(`engine ${organization.name}/${organization.provider}`);
    const engine: Engine = {
      name: organization.provider === 'aws' ? 'pulumi' : 'local',
      read: (ref) => store.read(ref),
      apply: async () => {
        throw new Error('not in plan');
      },
      destroy: async () => {
        throw new Error('not in plan');
      },
    };
    if (preview) engine.preview = preview;
    return engine;
  };
  return { factory, calls };
}

t.test('stages from manifests and stages only in the state dir (stage delete), sorted, one engine per organization', async (t) => {
  const stateDir = tempDir(t);
  const store = new StateStore(stateDir);
  const old = stage({ name: 'old', services: { db: service('postgresql') } });
  await store.write(refOf(old), old);
  const gone = stage({ name: 'gone' });
  await store.write(refOf(gone), gone);
  await store.write(refOf(gone), null); // destroyed earlier: recorded as nothing
  const { factory, calls } = engines(stateDir);
  const plans = await planStages({
    desired: desiredOf([stage({ name: 'staging', apps: { web: app() } })], { 'acme/shop/staging': { 'app/web': ['apps.yaml'], stage: ['stages.yaml'] } }),
    stateDir,
    deps: testDeps(),
    signal: new AbortController().signal,
    engineFor: factory,
  });
  t.same(plans.map((p) => [p.key, p.summary.create, p.summary.delete, p.actual.serial]), [
    ['acme/shop/old', 0, 2, '1'],
    ['acme/shop/staging', 2, 0, null],
  ]);
  t.same(plans[0]!.problems.map((p) => p.code), ['E_DATA_LOSS', 'E_DATA_LOSS']);
  t.same(plans[1]!.files, { stage: ['stages.yaml'], 'app/web': ['apps.yaml'] });
  t.same(calls, ['engine acme/local'], 'engines are reused per organization');
});

t.test('engine preview lines are appended; a missing Pulumi CLI becomes a note', async (t) => {
  const stateDir = tempDir(t);
  const desired = desiredOf([stage({ name: 'staging', apps: { web: app() } })]);
  const opts = { desired, stateDir, deps: testDeps(), signal: new AbortController().signal };
  const withPreview = engines(stateDir, async () => ({
    changes: [{ op: 'create', subject: 'resource/aws:ecs/service:Service/web', dataLoss: false, command: '# pulumi up' }],
  }));
  const [p] = await planStages({ ...opts, engineFor: withPreview.factory });
  t.same(p!.resources.map((r) => r.subject), ['resource/aws:ecs/service:Service/web']);
  t.equal(p!.summary.create, 2, 'resource lines are not counted as stage changes');

  const missing = engines(stateDir, async () => {
    throw new EngineError('the Pulumi CLI is required for preview; install it', { code: 'E_PULUMI_CLI_MISSING' });
  });
  const [q] = await planStages({ ...opts, engineFor: missing.factory });
  t.same(q!.notes, ['resource preview skipped: the Pulumi CLI is required for preview; install it']);
  t.equal(q!.changeset.changes.length, 2, "the stage's own changes still show");

  const broken = engines(stateDir, async () => {
    throw new EngineError('stack is locked', { code: 'E_LOCKED' });
  });
  await t.rejects(planStages({ ...opts, engineFor: broken.factory }), { message: 'stack is locked' });
  const skipped = await planStages({ ...opts, engineFor: broken.factory, preview: false });
  t.same(skipped[0]!.resources, []);
});

t.test('an aborted signal stops planning', async (t) => {
  const stateDir = tempDir(t);
  const ac = new AbortController();
  ac.abort();
  await t.rejects(
    planStages({ desired: desiredOf([stage()]), stateDir, deps: testDeps(), signal: ac.signal, engineFor: engines(stateDir).factory }),
    { code: 'E_CANCELED' },
  );
});

t.test('selectStages', async (t) => {
  const keys = ['acme/shop/production', 'acme/shop/staging', 'beta/shop/staging'];
  t.same(selectStages(keys, []), keys);
  t.same(selectStages(keys, ['production']), ['acme/shop/production']);
  t.same(selectStages(keys, ['beta/shop/staging', 'acme/shop/production']), ['acme/shop/production', 'beta/shop/staging']);
  t.throws(() => selectStages(keys, ['staging']), { message: /--stage staging is ambiguous: it matches acme\/shop\/staging, beta\/shop\/staging/ });
  t.throws(() => selectStages(keys, ['qa']), { message: /--stage qa: no such stage/ });
});

t.test('a stage moving to another provider is read from the engine that holds it: stage replace', async (t) => {
  const stateDir = tempDir(t);
  const local = stage({ services: { db: service('postgresql') } });
  await new StateStore(stateDir).write(refOf(local), local);
  const aws = stage({ organization: { provider: 'aws', aws: { region: 'eu-central-1' } }, services: { db: service('postgresql') } });
  const { factory, calls } = engines(stateDir);
  const [p] = await planStages({ desired: desiredOf([aws]), stateDir, deps: testDeps(), signal: new AbortController().signal, engineFor: factory });
  t.same(calls, ['engine acme/local']);
  t.same(p!.changeset.changes.map((c) => `${c.op} ${c.subject}`), ['replace stage', 'create service/db']);
  t.equal(p!.changeset.changes[0]!.dataLoss, true);
});

t.test('plan --refresh: drift from the engine becomes notes; engines without refresh say so', async (t) => {
  const stateDir = tempDir(t);
  const web = stage({ name: 'staging', apps: { web: app() } });
  await new StateStore(stateDir).write(refOf(web), web);
  const desired = desiredOf([web]);
  const opts = { desired, stateDir, deps: testDeps(), signal: new AbortController().signal, refresh: true };

  const plain = engines(stateDir);
  const [local] = await planStages({ ...opts, engineFor: plain.factory });
  t.same(local!.notes, ['refresh: the local engine has no refresh; planned against its recorded state']);
  t.equal(local!.changeset.changes.length, 0);

  const refreshed: string[] = [];
  const drifting: EngineFactory = async (organization, ctx) => {
    const engine = await plain.factory(organization, ctx);
    engine.refresh = async (ref) => {
      refreshed.push(ref.stage);
      return {
        ...(await engine.read(ref)),
        drift: [{ op: 'delete', subject: 'resource/aws:s3/bucket:Bucket/uploads', reason: 'deleted outside Pulumi', dataLoss: false, command: '# pulumi refresh' }],
      };
    };
    return engine;
  };
  const [aws] = await planStages({ ...opts, engineFor: drifting });
  t.same(refreshed, ['staging'], 'refresh is called instead of read');
  t.same(aws!.notes, ['drift: delete resource/aws:s3/bucket:Bucket/uploads (deleted outside Pulumi)']);

  const [noRefresh] = await planStages({ ...opts, refresh: false, engineFor: drifting });
  t.same(noRefresh!.notes, [], 'without --refresh the engine is only read');
  t.same(refreshed, ['staging']);

  const passphrase = engines(stateDir, async () => {
    throw new EngineError('PULUMI_CONFIG_PASSPHRASE is not set', { code: 'E_PULUMI_PASSPHRASE_MISSING' });
  });
  const changedDesired = desiredOf([stage({ name: 'staging', apps: { web: app({ scale: 2 }) } })]);
  const [p] = await planStages({ ...opts, refresh: false, desired: changedDesired, engineFor: passphrase.factory });
  t.same(p!.notes, ['resource preview skipped: PULUMI_CONFIG_PASSPHRASE is not set']);
});
