/**
 * The apply use case without the CLI: review, the approval policy, manual-approval skips,
 * secrets from the engine registry's sources, after: order. Engines are in-memory fakes; the
 * real engines are exercised by test/cli and test/e2e.
 */
import t from 'tap';
import { join } from 'node:path';
import type { DesiredState } from '../../src/manifests/api.js';
import { stageKey, type StageModel } from '../../src/model/stage-model.js';
import { applyStages, type ApplyRequest, type ReviewedStage } from '../../src/operations/apply-stages.js';
import type { ApplyEvent } from '../../src/operations/apply-stage.js';
import { StatusRecords } from '../../src/state/status-record.js';
import { testDeps } from '../helpers/deps.js';
import { fakeEngine } from './apply-fakes.js';
import { tempDir } from '../helpers/temp.js';
import { app, stage } from '../helpers/models.js';

const CANARY = 'canary-apply-secret-7c3e';

function desiredOf(...stages: StageModel[]): DesiredState {
  return { stages, origins: {}, counts: { organizations: 1, projects: 1, stages: stages.length, apps: stages.length, services: 0 } };
}

const withSecrets = (m: StageModel): StageModel => ({ ...m, organization: { ...m.organization, secrets: { env: { prefix: 'SHOP_' } } } });
const manual = (m: StageModel): StageModel => ({ ...m, stage: { ...m.stage, approval: 'manual' } });

async function setup(t: { teardown(fn: () => unknown): void }) {
  const stateDir = tempDir(t, 'setopsd-apply-stages-');
  const engine = fakeEngine();
  const deps = testDeps({ env: { SHOP_TOKEN: CANARY } });
  const events: ApplyEvent[] = [];
  const reviewed: ReviewedStage[][] = [];
  const run = (stages: StageModel[], over: Partial<ApplyRequest> = {}) =>
    applyStages(
      { deps, stateDir, engineFactory: async () => engine },
      {
        source: { kind: 'desired', desired: desiredOf(...stages), commit: 'c1', ref: 'main', configRoot: '/nowhere' },
        stages: [],
        approval: { yes: true },
        allowDataLoss: false,
        lockTimeoutMs: 0,
        parallel: 2,
        onReview: (r) => reviewed.push([...r]),
        onEvent: (e) => events.push(e),
        ...over,
      },
      new AbortController().signal,
    );
  return { stateDir, engine, events, reviewed, run };
}

t.test('--yes applies every changed stage, after: order kept, secrets from the Organization\'s env prefix', async (t) => {
  const { engine, events, reviewed, run, stateDir } = await setup(t);
  const staging = withSecrets(stage({ name: 'staging', apps: { web: app({ env: { TOKEN: { secret: 'TOKEN' } } }) } }));
  const production = withSecrets(stage({ name: 'production', after: 'staging', apps: { web: app({ env: { TOKEN: { secret: 'TOKEN' } } }) } }));
  const out = await run([production, staging]);
  t.equal(out.declined, false);
  t.same(reviewed[0]!.map((r) => r.plan.key), ['acme/shop/production', 'acme/shop/staging'], 'every stage reviewed, sorted');
  t.same(engine.calls, ['apply acme/shop/staging', 'apply acme/shop/production'], 'staging first');
  t.same(out.declined ? [] : out.outcomes.map((o) => [stageKey(o.ref), o.status]), [['acme/shop/production', 'succeeded'], ['acme/shop/staging', 'succeeded']]);
  t.notMatch(JSON.stringify(events), new RegExp(CANARY), 'no secret value in any event');
  t.match(await new StatusRecords(stateDir, () => 0).read({ organization: 'acme', project: 'shop', stage: 'production' }), { state: 'ready', lastAppliedRevision: 'c1' });

  const again = await run([production, staging]);
  t.same(again.declined ? null : again.outcomes, [], 'nothing changed: no outcomes, no engine call');
  t.equal(engine.calls.length, 2);
});

t.test('a terminal confirmation approves everything; declining changes nothing', async (t) => {
  const { engine, run } = await setup(t);
  let asked: string[] = [];
  const declined = await run([manual(stage({ name: 'production', apps: { web: app() } }))], { approval: { yes: false, confirm: async (stages) => ((asked = stages.map((s) => s.plan.key)), false) } });
  t.equal(declined.declined, true);
  t.same(asked, ['acme/shop/production']);
  t.same(engine.calls, []);
  const confirmed = await run([manual(stage({ name: 'production', apps: { web: app() } }))], { approval: { yes: false, confirm: async () => true } });
  t.match(confirmed, { declined: false, outcomes: [{ status: 'succeeded' }] }, 'a confirmation approves manual stages too');
});

t.test('without --yes or a terminal: refused for a directory source; a plan file applies automatic stages and skips manual ones', async (t) => {
  const { engine, run, events } = await setup(t);
  await t.rejects(run([stage({ name: 'staging', apps: { web: app() } })], { approval: { yes: false } }), { code: 'E_USAGE', message: /apply needs --yes/ });
  t.same(engine.calls, []);

  const { planFileOf } = await import('../../src/reconciler/plan-file.js');
  const { planStage } = await import('../../src/reconciler/stage-plan.js');
  const empty = { model: null, serial: null };
  const file = planFileOf([planStage(stage({ name: 'staging', apps: { web: app() } }), empty, 'local'), planStage(manual(stage({ name: 'production', apps: { web: app() } })), empty, 'local')], { ref: 'main', commit: 'c9', root: '/nowhere', dir: '' });
  const out = await run([], { source: { kind: 'plan-file', file, configRoot: '/nowhere' }, approval: { yes: false } });
  t.same(engine.calls, ['apply acme/shop/staging']);
  t.match(out, { declined: false, outcomes: [{ status: 'skipped', reason: /approval: manual/ }, { status: 'succeeded' }] });
  t.ok(events.some((e) => e.type === 'skipped' && stageKey(e.ref) === 'acme/shop/production'));
});

t.test('--stage selects; --parallel below 1 is a usage error', async (t) => {
  const { engine, run } = await setup(t);
  await run([stage({ name: 'staging', apps: { web: app() } }), stage({ name: 'production', apps: { web: app() } })], { stages: ['staging'] });
  t.same(engine.calls, ['apply acme/shop/staging']);
  await t.rejects(run([stage({ name: 'staging', apps: { web: app() } })], { parallel: 0 }), { code: 'E_USAGE' });
});
