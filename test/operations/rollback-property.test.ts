/**
 * Property: after `rollback --to N`, the stage runs exactly deployment N's stored model — planning
 * that model against the stage is empty — for any history of applies and any earlier succeeded N;
 * the stage is then pinned at the new deployment, and the journal says what it rolled back.
 */
import t from 'tap';
import fc from 'fast-check';
import { plan } from '../../src/reconciler/plan.js';
import { applyStage, type ApplyContext } from '../../src/operations/apply-stage.js';
import { rollbackStage } from '../../src/operations/rollback-stage.js';
import { Journal } from '../../src/state/journal.js';
import { StagePins } from '../../src/state/pin.js';
import { testDeps } from '../helpers/deps.js';
import { tempDir } from '../helpers/temp.js';
import { app, service, stage } from '../helpers/models.js';
import { fakeEngine, fakePlanner } from './apply-fakes.js';

const ref = { organization: 'acme', project: 'shop', stage: 'staging' };
const version = fc.record({ greeting: fc.constantFrom('a', 'b', 'c'), scale: fc.integer({ min: 1, max: 3 }), cache: fc.boolean() });
const modelOf = (v: { greeting: string; scale: number; cache: boolean }) =>
  stage({ name: 'staging', apps: { web: app({ scale: v.scale, env: { GREETING: v.greeting } }) }, services: v.cache ? { cache: service('redis') } : {} });

t.test('rollback --to N: planning deployment N\'s model against the stage is empty', async (t) => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(version, { minLength: 2, maxLength: 5 }), fc.nat(), async (versions, pick) => {
      const stateDir = tempDir(t, `setopsd-rollback-prop-${run++}-`);
      const deps = testDeps();
      const engine = fakeEngine();
      const ctx: ApplyContext = { stateDir, deps, signal: new AbortController().signal, planner: fakePlanner, allowDataLoss: true, lockTimeoutMs: 0, command: 'apply' };
      for (const [i, v] of versions.entries()) {
        await applyStage({ ref, desired: modelOf(v), engine, source: { commit: `c${i}`, ref: 'main' }, trigger: 'cli', configRoot: stateDir, secrets: { get: async () => 'x' } }, ctx);
      }
      const entries = await new Journal(stateDir, ref, () => 0).list();
      const target = entries[pick % entries.length]!;
      const to = target.number;
      const result = await rollbackStage({ deps, stateDir, engineFactory: async () => engine }, ref, { to }, { yes: true, allowDataLoss: true, lockTimeoutMs: 0 }, new AbortController().signal);
      if (result.declined || result.outcome.status !== 'succeeded') throw new Error(`rollback failed: ${JSON.stringify(result.declined ? 'declined' : result.outcome)}`);
      // An apply that changed nothing has no deployment: the commit says which version #to was.
      const wanted = modelOf(versions[Number(target.commit!.slice(1))]!);
      const now = engine.states.get('acme/shop/staging')!.model;
      if (plan(wanted, now).changes.length !== 0) throw new Error(`rollback to #${to}: the stage differs from its model`);
      const last = (await new Journal(stateDir, ref, () => 0).latest())!;
      if (last.trigger !== 'rollback' || last.rollbackOf !== to || last.commit !== target.commit) throw new Error(`journal: ${JSON.stringify(last)}`);
      const pin = await new StagePins(stateDir).read(ref);
      if (pin?.deployment !== last.number || pin.reason !== 'rollback') throw new Error(`pin: ${JSON.stringify(pin)}`);
    }),
    { numRuns: 25 },
  );
  t.pass('held for 25 histories');
});

t.test('rollback refuses what it cannot do, changing nothing', async (t) => {
  const stateDir = tempDir(t, 'setopsd-rollback-refuse-');
  const deps = testDeps();
  const engine = fakeEngine();
  const ctx: ApplyContext = { stateDir, deps, signal: new AbortController().signal, planner: fakePlanner, allowDataLoss: false, lockTimeoutMs: 0, command: 'apply' };
  const request = { yes: true, allowDataLoss: false, lockTimeoutMs: 0 };
  const opsDeps = { deps, stateDir, engineFactory: async () => engine };
  const signal = new AbortController().signal;
  await t.rejects(rollbackStage(opsDeps, ref, {}, request, signal), /no succeeded deployment to roll back from/);
  await applyStage({ ref, desired: modelOf({ greeting: 'a', scale: 1, cache: false }), engine, source: { commit: 'c0', ref: 'main' }, trigger: 'cli', configRoot: stateDir, secrets: { get: async () => 'x' } }, ctx);
  await t.rejects(rollbackStage(opsDeps, ref, {}, request, signal), /no earlier succeeded deployment with a different model than #1/);
  await t.rejects(rollbackStage(opsDeps, ref, { to: 9 }, request, signal), /has no deployment #9; it has #1 to #1/);
  await t.rejects(rollbackStage(opsDeps, ref, { to: 1 }, { ...request, yes: false }, signal), /rollback of acme\/shop\/staging needs --yes when not run in a terminal/);
  t.equal((await new Journal(stateDir, ref, () => 0).list()).length, 1, 'no deployment was added');
  t.equal(await new StagePins(stateDir).read(ref), null, 'not pinned');
});
