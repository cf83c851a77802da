import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { applyStage, type ApplyContext, type ApplyEvent, type StageJob } from '../../src/operations/apply-stage.js';
import { runStageJobs } from '../../src/operations/run-stage-jobs.js';
import { Journal } from '../../src/state/journal.js';
import { acquireStageLock, readStageLock } from '../../src/state/lock.js';
import { StalePlanError, EngineError } from '../../src/errors.js';
import type { StageModel } from '../../src/model/stage-model.js';
import type { SecretResolver } from '../../src/providers/engine.js';
import { testDeps } from '../helpers/deps.js';
import { fakeEngine, fakePlanner } from './apply-fakes.js';
import { tempDir } from '../helpers/temp.js';
import { app, stage } from '../helpers/models.js';

const noSecrets: SecretResolver = {
  get: async (name) => {
    throw new EngineError(`secret "${name}" is not set`, { code: 'E_SECRET_MISSING' });
  },
};

async function setup(t: { teardown(fn: () => unknown): void }, over: Partial<ApplyContext> = {}) {
  const stateDir = tempDir(t, 'setopsd-apply-');
  const events: ApplyEvent[] = [];
  const ctx: ApplyContext = {
    stateDir,
    deps: testDeps(),
    signal: new AbortController().signal,
    planner: fakePlanner,
    allowDataLoss: false,
    lockTimeoutMs: 0,
    command: 'apply',
    onEvent: (e) => events.push(e),
    ...over,
  };
  return { stateDir, ctx, events };
}

function job(engine: ReturnType<typeof fakeEngine>, desired: StageModel | null, over: Partial<StageJob> = {}): StageJob {
  const ref = { organization: 'acme', project: 'shop', stage: (desired?.stage.name ?? over.ref?.stage)! };
  return { ref, desired, engine, source: { commit: 'c0ffee', ref: 'main' }, trigger: 'cli', configRoot: '/nowhere', secrets: noSecrets, ...over };
}

const staging = { organization: 'acme', project: 'shop', stage: 'staging' };

t.test('a successful apply is journaled pending → running → succeeded, logged, and unlocked', async (t) => {
  const { stateDir, ctx, events } = await setup(t);
  const engine = fakeEngine();
  let seenInJournal: string | undefined;
  const wrapped = { ...engine, apply: async (...a: Parameters<typeof engine.apply>) => {
    seenInJournal = (await new Journal(stateDir, staging, () => 0).get(1)).status;
    t.ok(await readStageLock(stateDir, staging), 'the stage is locked while the engine runs');
    return engine.apply(...a);
  } };
  const out = await applyStage(job(engine, stage({ name: 'staging', apps: { web: app() } }), { engine: wrapped }), ctx);
  t.equal(out.status, 'succeeded');
  t.equal(seenInJournal, 'running', 'the entry exists and is running before the engine changes anything');
  const [entry] = await new Journal(stateDir, staging, () => 0).list();
  t.match(entry, { number: 1, kind: 'apply', status: 'succeeded', commit: 'c0ffee', ref: 'main', trigger: 'cli', applied: ['app/web', 'stage'], summary: { create: 2 } });
  t.match(entry!.desiredHash, /^sha256:/);
  t.equal(entry!.startedAt, '2026-01-01T00:00:00.000Z');
  t.ok(entry!.endedAt);
  const log = await readFile(entry!.log, 'utf8');
  t.match(log, /deployment #1 of acme\/shop\/staging \(apply, trigger cli, commit c0ffee\)/);
  t.match(log, /app\/web succeeded/);
  t.match(log, /succeeded\n$/);
  t.equal(await readStageLock(stateDir, staging), null, 'unlocked afterwards');
  t.same(events.map((e) => e.type), ['started', 'progress', 'progress', 'progress', 'progress', 'finished']);

  const again = await applyStage(job(engine, stage({ name: 'staging', apps: { web: app() } })), ctx);
  t.equal(again.status, 'unchanged', 'applying the same model again changes nothing');
  t.equal((await new Journal(stateDir, staging, () => 0).list()).length, 1, 'and writes no journal entry');
});

t.test('a failure part-way is journaled truthfully with what was applied', async (t) => {
  for (const throwOnFail of [false, true]) {
    const { stateDir, ctx } = await setup(t);
    const engine = fakeEngine({ failAt: { 'acme/shop/staging': 'app/web' }, throwOnFail });
    const out = await applyStage(job(engine, stage({ name: 'staging', apps: { web: app() } })), ctx);
    t.equal(out.status, 'failed', `status (throw ${throwOnFail})`);
    const [entry] = await new Journal(stateDir, staging, () => 0).list();
    t.equal(entry!.status, 'failed');
    t.same(entry!.applied, ['stage'], 'only the stage was applied before app/web failed');
    t.same(entry!.error, { code: 'E_ENGINE', message: 'app/web in acme/shop/staging: never became healthy' });
    t.equal(await readStageLock(stateDir, staging), null, 'unlocked after a failure');
  }
});

t.test('refusals before anything changes write no journal entry and do not call the engine', async (t) => {
  const cases: [string, Partial<StageJob>, StageModel | null, RegExp, string][] = [
    ['stale plan', { verifyFresh: () => { throw new StalePlanError('stage acme/shop/staging: stale plan: planned against serial 1, now 2'); } }, stage({ name: 'staging', apps: { web: app() } }), /stale plan/, 'E_STALE_PLAN'],
    ['missing secret', {}, stage({ name: 'staging', apps: { web: app({ env: { API_KEY: { secret: 'api-key' }, PLAIN: 'x' } }) } }), /stage acme\/shop\/staging: missing secrets, nothing was changed: app\/web env API_KEY needs secret "api-key"/, 'E_SECRET_MISSING'],
  ];
  for (const [name, over, desired, message, code] of cases) {
    const { stateDir, ctx, events } = await setup(t);
    const engine = fakeEngine();
    const out = await applyStage(job(engine, desired, over), ctx);
    t.equal(out.status, 'failed', name);
    t.match(out, { error: { code, message } }, name);
    t.same(engine.calls, [], `${name}: engine not called`);
    t.same(await new Journal(stateDir, staging, () => 0).list(), [], `${name}: no journal entry`);
    t.same(events.map((e) => e.type), ['refused']);
    t.equal(await readStageLock(stateDir, staging), null);
  }
});

t.test('an unsafe plan is refused with the safety problems', async (t) => {
  const { ctx } = await setup(t);
  const engine = fakeEngine();
  engine.states.set('acme/shop/staging', { model: stage({ name: 'staging', protected: true, apps: { web: app() } }), serial: '4' });
  const out = await applyStage(job(engine, null, { ref: staging }), ctx);
  t.match(out, { status: 'failed', error: { code: 'E_UNSAFE_PLAN', message: 'stage acme/shop/staging: refused: stage staging is protected' } });
  t.same(engine.calls, []);
});

t.test('secrets are resolved once before the engine runs and served to it; values never reach the journal', async (t) => {
  const { stateDir, ctx } = await setup(t);
  const engine = fakeEngine();
  let reads = 0;
  const secrets: SecretResolver = { get: async (n) => { reads += 1; return `value-of-${n}-s3cr3t`; } };
  const out = await applyStage(job(engine, stage({ name: 'staging', apps: { web: app({ env: { A: { secret: 'one' }, B: { secret: 'one' } } }) } }), { secrets }), ctx);
  t.equal(out.status, 'succeeded');
  t.equal(reads, 1, 'read once');
  const dir = join(stateDir, 'stages/acme/shop/staging');
  const [entry] = await new Journal(stateDir, staging, () => 0).list();
  t.notMatch(JSON.stringify(entry) + (await readFile(entry!.log, 'utf8')), /s3cr3t/, 'no secret value in journal or log');
  t.ok(dir);
});

t.test('a locked stage is refused at once, naming the holder', async (t) => {
  const { stateDir, ctx } = await setup(t);
  const held = await acquireStageLock(stateDir, staging, ctx.deps, { command: 'daemon', timeoutMs: 0 });
  t.teardown(() => held.release());
  const engine = fakeEngine();
  const out = await applyStage(job(engine, stage({ name: 'staging', apps: { web: app() } })), ctx);
  t.match(out, { status: 'failed', error: { code: 'E_LOCKED', message: /is locked by PID \d+ on .* \(daemon\)/ } });
  t.same(engine.calls, []);
});

t.test('an entry left running by a dead process is closed as interrupted before the next apply', async (t) => {
  const { stateDir, ctx, events } = await setup(t);
  const journal = new Journal(stateDir, staging, () => 0);
  const dead = await journal.start(await journal.open({ kind: 'apply', commit: null, ref: null, trigger: 'cli', changeset: { ref: staging, changes: [] }, desiredHash: null, summary: { create: 0, update: 0, replace: 0, delete: 0 } }));
  const { writeFile } = await import('node:fs/promises');
  await writeFile(journal.pathOf(dead.number), JSON.stringify({ ...dead, pid: 2 ** 22 + 7 }));
  const out = await applyStage(job(fakeEngine(), stage({ name: 'staging', apps: { web: app() } })), ctx);
  t.equal(out.status, 'succeeded');
  const list = await journal.list();
  t.same(list.map((d) => [d.number, d.status]), [[1, 'failed'], [2, 'succeeded']]);
  t.equal(list[0]!.error?.message, `interrupted (process ${2 ** 22 + 7} gone)`);
  t.equal(events[0]!.type, 'interrupted');
});

t.test('a stage with after: waits for its predecessor and is skipped when it failed; others still apply', async (t) => {
  const { ctx } = await setup(t);
  const engine = fakeEngine({ failAt: { 'acme/shop/staging': 'app/web' } });
  const jobs = [job(engine, stage({ name: 'production', after: 'staging', apps: { web: app() } })), job(engine, stage({ name: 'staging', apps: { web: app() } })), job(engine, stage({ name: 'preview', apps: { web: app() } }))];
  const out = await runStageJobs(jobs, ctx);
  t.same(out.map((o) => [o.ref.stage, o.status]), [['production', 'skipped'], ['staging', 'failed'], ['preview', 'succeeded']]);
  t.match(out[0], { reason: 'it runs after acme/shop/staging, which failed' });
  t.notOk(engine.calls.includes('apply acme/shop/production'));

  const { ctx: ctx2 } = await setup(t);
  const ok = fakeEngine();
  const out2 = await runStageJobs([job(ok, stage({ name: 'production', after: 'staging', apps: { web: app() } })), job(ok, stage({ name: 'staging', apps: { web: app() } }))], ctx2);
  t.same(out2.map((o) => o.status), ['succeeded', 'succeeded']);
  t.same(ok.calls, ['apply acme/shop/staging', 'apply acme/shop/production'], 'staging first');
});

t.test('after: a predecessor without changes counts as done; a cycle is skipped', async (t) => {
  const { ctx } = await setup(t);
  const engine = fakeEngine();
  engine.states.set('acme/shop/staging', { model: stage({ name: 'staging', apps: { web: app() } }), serial: '1' });
  const out = await runStageJobs([job(engine, stage({ name: 'production', after: 'staging', apps: { web: app() } })), job(engine, stage({ name: 'staging', apps: { web: app() } }))], ctx);
  t.same(out.map((o) => o.status), ['succeeded', 'unchanged']);
  const cyc = await runStageJobs([job(engine, stage({ name: 'aaa', after: 'bbb', apps: { web: app() } })), job(engine, stage({ name: 'bbb', after: 'aaa', apps: { web: app() } }))], ctx);
  t.same(cyc.map((o) => o.status), ['skipped', 'skipped']);
  t.match(cyc[0], { reason: /cycle/ });
});

t.test('independent stages run in parallel up to the bound', async (t) => {
  const { ctx } = await setup(t);
  const names = ['aaa', 'bbb', 'ccc', 'ddd'];
  const engine = fakeEngine({ hang: new Set(names.map((n) => `acme/shop/${n}`)) });
  const done = runStageJobs(names.map((n) => job(engine, stage({ name: n, apps: { web: app() } }))), ctx, { concurrency: 2 });
  await engine.waitForGate('acme/shop/aaa');
  await engine.waitForGate('acme/shop/bbb');
  t.same([...engine.calls].sort(), ['apply acme/shop/aaa', 'apply acme/shop/bbb'], 'two at a time');
  engine.release('acme/shop/aaa');
  await engine.waitForGate('acme/shop/ccc');
  engine.release('acme/shop/bbb');
  engine.release('acme/shop/ccc');
  await engine.waitForGate('acme/shop/ddd');
  engine.release('acme/shop/ddd');
  const out = await done;
  t.same(out.map((o) => o.status), ['succeeded', 'succeeded', 'succeeded', 'succeeded']);
  t.equal(engine.maxActive(), 2);
});

t.test('cancel: the running deployment is journaled failed "canceled", the lock released, waiting stages skipped', async (t) => {
  const ac = new AbortController();
  const { stateDir, ctx } = await setup(t, { signal: ac.signal });
  const engine = fakeEngine({ hang: new Set(['acme/shop/staging']) });
  const done = runStageJobs([job(engine, stage({ name: 'staging', apps: { web: app() } })), job(engine, stage({ name: 'production', after: 'staging', apps: { web: app() } })), job(engine, stage({ name: 'preview', apps: { web: app() } }))], ctx, { concurrency: 1 });
  await engine.waitForGate('acme/shop/staging');
  ac.abort(new Error('SIGINT'));
  const out = await done;
  t.same(out.map((o) => o.status), ['failed', 'skipped', 'skipped']);
  t.match(out[0], { error: { code: 'E_CANCELED' } });
  const [entry] = await new Journal(stateDir, staging, () => 0).list();
  t.equal(entry!.status, 'failed');
  t.equal(entry!.error?.code, 'E_CANCELED');
  t.equal(await readStageLock(stateDir, staging), null);
});

t.test('a stage deleted from the manifests is destroyed through the engine and journaled as a destroy', async (t) => {
  const { stateDir, ctx } = await setup(t);
  const engine = fakeEngine();
  engine.states.set('acme/shop/staging', { model: stage({ name: 'staging', apps: { web: app() } }), serial: '3' });
  const out = await applyStage(job(engine, null, { ref: staging }), ctx);
  t.equal(out.status, 'succeeded');
  t.same(engine.calls, ['destroy acme/shop/staging']);
  const [entry] = await new Journal(stateDir, staging, () => 0).list();
  t.match(entry, { kind: 'destroy', desiredHash: null, status: 'succeeded', summary: { delete: 1 } });
});

t.test('when the deployment log cannot be opened, the entry is still closed as failed, never left open', async (t) => {
  const { stateDir, ctx } = await setup(t);
  const { mkdir, writeFile } = await import('node:fs/promises');
  const stageDir = join(stateDir, 'stages/acme/shop/staging');
  await mkdir(stageDir, { recursive: true });
  await writeFile(join(stageDir, 'logs'), 'a file where the logs directory should be');
  const engine = fakeEngine();
  const out = await applyStage(job(engine, stage({ name: 'staging', apps: { web: app() } })), ctx);
  t.equal(out.status, 'failed');
  t.same(engine.calls, [], 'the engine never ran');
  const [entry] = await new Journal(stateDir, staging, () => 0).list();
  t.equal(entry!.status, 'failed');
  t.match(entry!.error?.message, /unexpected error: .*(EEXIST|ENOTDIR)/);
  t.equal(await readStageLock(stateDir, staging), null);
});
