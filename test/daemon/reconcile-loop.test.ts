/**
 * The daemon following a local repository: a commit is picked up through the refs (no polling),
 * staging is applied, production waits for approval and is applied once approved through the
 * API, `after:` holds production while staging fails, an invalid commit applies nothing.
 */
import t from 'tap';
import { waitFor } from '../helpers/wait.js';
import { fakeEngine } from '../operations/apply-fakes.js';
import { daemonFor, manifests } from './helpers.js';

t.test('commit → staging applied; production waits for approval; approve → applied', async (t) => {
  const d = await daemonFor(t, manifests({ greeting: 'one' }));
  await waitFor('staging ready', async () => (await d.record('staging'))?.state === 'ready', { timeoutMs: 20_000 });
  const staging = await d.record('staging');
  t.equal(staging?.lastAppliedRevision, d.repo.revParse('HEAD'), 'at the tracked commit');
  const held = await waitFor('production waiting for approval', async () => {
    const r = await d.record('production');
    return r?.state === 'waiting-approval' ? r : undefined;
  }, { timeoutMs: 20_000 });
  t.match(held, { reason: 'manual-approval', pendingPlan: { id: /^[0-9a-f]{12}$/ } });
  t.same(d.engine.calls, ['apply acme/shop/staging'], 'production not applied');

  const view = await d.api('GET', '/api/v1/stages/acme/shop/production');
  t.equal(view.status, 200);
  t.equal(view.body.pending?.planId ?? view.body.stage?.pending?.planId, held!.pendingPlan!.id);

  const wrong = await d.api('POST', '/api/v1/stages/acme/shop/production/approve', { plan: '000000000000' });
  t.ok(wrong.status >= 400 && wrong.status < 500, 'a plan id that is not the waiting one is refused');
  t.same(d.engine.calls, ['apply acme/shop/staging']);

  const ok = await d.api('POST', '/api/v1/stages/acme/shop/production/approve', { plan: held!.pendingPlan!.id });
  t.equal(ok.status, 200, JSON.stringify(ok.body));
  await waitFor('production ready', async () => (await d.record('production'))?.state === 'ready', { timeoutMs: 20_000 });
  t.same(d.engine.calls, ['apply acme/shop/staging', 'apply acme/shop/production']);

  // The next commit: staging first, production waits again (a new desired state, a new approval).
  const c2 = d.repo.commit('greeting two', manifests({ greeting: 'two' }));
  await waitFor('staging at c2', async () => (await d.record('staging'))?.lastAppliedRevision === c2, { timeoutMs: 20_000 });
  await waitFor('production waits again', async () => (await d.record('production'))?.state === 'waiting-approval', { timeoutMs: 20_000 });
  t.equal(d.engine.calls.filter((c) => c.endsWith('production')).length, 1, 'the old approval did not carry over');
});

t.test('after: a failing staging keeps production where it is', async (t) => {
  const engine = fakeEngine({ failAt: { 'acme/shop/staging': 'app/web' } });
  const d = await daemonFor(t, manifests({ greeting: 'one', productionApproval: 'auto' }), { engine });
  await waitFor('staging failed', async () => (await d.record('staging'))?.state === 'failed', { timeoutMs: 20_000 });
  t.match(await d.record('staging'), { reason: 'E_ENGINE', failures: 1 });
  t.notOk(engine.calls.includes('apply acme/shop/production'), 'production was not applied');
  t.equal(await d.record('production'), null, 'production untouched');
});

t.test('an invalid commit applies nothing and is reported; the next valid commit recovers', async (t) => {
  const d = await daemonFor(t, manifests({ greeting: 'one', productionApproval: 'auto' }));
  await waitFor('converged', async () => (await d.record('production'))?.state === 'ready', { timeoutMs: 20_000 });
  const calls = d.engine.calls.length;
  const bad = d.repo.commit('broken', manifests({ greeting: 'two', broken: true }));
  const revision = await waitFor('the invalid commit seen', async () => {
    const r = await d.api('GET', '/api/v1/revision');
    return r.body.commit === bad ? r.body : undefined;
  }, { timeoutMs: 20_000 });
  t.equal(revision.valid, false);
  t.match(revision.issues, [{ file: 'config/setops.yaml', pointer: '/spec/port', message: /65535/ }]);
  t.equal(d.engine.calls.length, calls, 'nothing applied');
  t.equal((await d.record('staging'))?.state, 'ready', 'every stage keeps what it had');

  const good = d.repo.commit('fixed', manifests({ greeting: 'three', productionApproval: 'auto' }));
  await waitFor('recovered', async () => (await d.record('production'))?.lastAppliedRevision === good, { timeoutMs: 20_000 });
  t.equal((await d.api('GET', '/api/v1/revision')).body.valid, true);
});

t.test('a burst of 50 commits while an apply runs: at most 2 applies per stage, the last commit wins', async (t) => {
  const hang = new Set(['acme/shop/staging']);
  const engine = fakeEngine({ hang });
  const d = await daemonFor(t, manifests({ greeting: 'g0', productionApproval: 'auto' }), { engine });
  await engine.waitForGate('acme/shop/staging');
  hang.clear(); // only the first apply waits
  let last = '';
  for (let i = 1; i <= 50; i++) last = d.repo.commit(`g${i}`, manifests({ greeting: `g${i}`, productionApproval: 'auto' }));
  await waitFor('the daemon saw the last commit', async () => (await d.api('GET', '/api/v1/revision')).body.commit === last, { timeoutMs: 20_000 });
  engine.release('acme/shop/staging');
  await waitFor('production at the last commit', async () => (await d.record('production'))?.lastAppliedRevision === last, { timeoutMs: 30_000 });
  const applies = (stage: string) => engine.calls.filter((c) => c === `apply acme/shop/${stage}`).length;
  t.ok(applies('staging') <= 2, `staging applied ${applies('staging')} times`);
  t.ok(applies('production') <= 2, `production applied ${applies('production')} times`);
  t.equal(engine.states.get('acme/shop/production')?.model?.apps.web?.env.GREETING, 'g50', 'the final state is the last commit');
});

t.test('a second daemon on the same state directory is refused and names the first', async (t) => {
  const d = await daemonFor(t, manifests({ greeting: 'one' }));
  const { startDaemon } = await import('../../src/daemon/daemon.js');
  const { localRepoSource } = await import('../../src/daemon/sources/local-repo.js');
  const { testDeps } = await import('../helpers/deps.js');
  await t.rejects(
    startDaemon(testDeps(), { stateDir: d.stateDir, source: await localRepoSource({ repo: d.repo.dir, branch: 'main', dir: 'config' }), pollMs: 0, concurrency: 1, shutdownTimeoutMs: 1000 }, new AbortController().signal),
    { code: 'E_LOCKED', message: new RegExp(`another setopsd daemon runs on the state directory .* \\(PID ${process.pid} on .*, ${d.daemon.url!.replace(/[.]/g, '\\.')}\\)`) },
  );
});

t.test('stopping during an apply: the apply gets its grace period, then everything is released', async (t) => {
  const engine = fakeEngine({ hang: new Set(['acme/shop/staging']) });
  const d = await daemonFor(t, manifests({ greeting: 'one' }), { engine, daemon: { shutdownTimeoutMs: 200 } });
  await engine.waitForGate('acme/shop/staging');
  await d.stop();
  const { readDaemonInfo } = await import('../../src/daemon/instance.js');
  t.equal(await readDaemonInfo(d.stateDir), null, 'daemon.json removed');
  const { Journal } = await import('../../src/state/journal.js');
  const entry = await new Journal(d.stateDir, { organization: 'acme', project: 'shop', stage: 'staging' }, () => 0).latest();
  t.ok(entry && entry.status !== 'running' && entry.status !== 'pending', `the journal entry is closed (${entry?.status})`);
});
