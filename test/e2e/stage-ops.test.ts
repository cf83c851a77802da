/**
 * Stage operations on the real local engine with a real git repository, through the real CLI:
 * rollback re-applies the stored model of an earlier deployment (zero failed requests through the
 * router while it switches), the commit of that deployment then plans empty, the stage is pinned
 * (apply and a running daemon plan the branch but leave the stage alone) until unpin; redeploy
 * restarts the processes without changing the model.
 */
import t, { type Test as Tap } from 'tap';
import { readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { gitRepo } from '../helpers/git.js';
import { tempDir } from '../helpers/temp.js';
import { get } from '../helpers/http.js';
import { waitFor } from '../helpers/wait.js';
import { cli, killMentioning, repoRoot, startCli } from './helpers.js';

const manifests = (version: string) => `apiVersion: setopsd/v1
kind: Organization
metadata: { name: acme }
spec: { provider: local }
---
apiVersion: setopsd/v1
kind: Project
metadata: { name: shop }
---
apiVersion: setopsd/v1
kind: Stage
metadata: { name: dev, project: shop }
---
apiVersion: setopsd/v1
kind: App
metadata: { name: web, project: shop }
spec:
  command: [node, http-app.mjs]
  workdir: apps
  public: true
  scale: 2
  healthCheck: { path: /health, interval: 5, startPeriod: 0 }
  env: { VERSION: ${version} }
`;

const stateDir = tempDir(t, 'setopsd-stage-ops-');
const repo = gitRepo(t);
const S = ['--state-dir', stateDir];
t.teardown(async () => {
  await cli(['destroy', 'dev', '--yes', '--allow-data-loss', ...S]).catch(() => undefined);
  await killMentioning(stateDir);
});

const routerPort = async () => JSON.parse(await readFile(join(stateDir, 'stages/acme/shop/dev/local/router.json'), 'utf8')).port as number;
const version = async () => {
  const r = await get(await routerPort(), '/', { host: 'web.dev.shop.localhost' });
  return r.status === 200 ? (JSON.parse(r.body) as { version: string; pid: number }) : null;
};
const entry = async (n: number) => JSON.parse(await readFile(join(stateDir, `stages/acme/shop/dev/journal/${String(n).padStart(6, '0')}.json`), 'utf8'));
const ok = async (t: Tap, args: string[], what: string) => {
  const r = await cli(args);
  t.equal(r.code, 0, `${what}: exit 0 (${r.stderr.trim()}${r.code !== 0 ? r.stdout : ''})`);
  return r;
};

/** GETs through the router one after another until `stop()`; every answer must be 200. */
function requestLoop() {
  let running = true;
  let sent = 0;
  const failures: string[] = [];
  const versions = new Set<string>();
  const done = (async () => {
    const port = await routerPort();
    while (running && sent < 20_000) {
      sent++;
      const r = await get(port, '/', { host: 'web.dev.shop.localhost' }).catch((err: Error) => ({ status: 0, body: err.message }));
      if (r.status !== 200) failures.push(`${r.status} ${r.body.slice(0, 80)}`);
      else versions.add((JSON.parse(r.body) as { version: string }).version);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return { sent, failures, versions };
    },
  };
}

let c1 = '';
let c2 = '';
t.before(async () => {
  await symlink(join(repoRoot, 'test/fixtures/local-apps'), join(repo.dir, 'apps'));
  c1 = repo.commit('v1', { 'setops.yaml': manifests('v1') });
  for (const [commit, v] of [[c1, 'v1'], [(c2 = repo.commit('v2', { 'setops.yaml': manifests('v2') })), 'v2']] as const) {
    const r = await cli(['apply', '--repo', repo.dir, '--ref', commit, '--yes', ...S]);
    if (r.code !== 0) throw new Error(`apply ${v} failed: ${r.stderr}${r.stdout}`);
  }
});

t.test('rollback re-applies deployment #1 with zero failed requests, and the commit of #1 then plans empty', async (t) => {
  t.equal((await version())?.version, 'v2');
  const loop = requestLoop();
  const r = await cli(['rollback', 'dev', '--to', '1', '--yes', ...S]);
  const traffic = await loop.stop();
  t.equal(r.code, 0, r.stderr + r.stdout);
  t.match(r.stdout, /rollback to deployment #1 \(commit [0-9a-f]{12}\)/, 'the plan says what it rolls back to');
  t.match(r.stdout, /app\/web/, 'the plan shows the env change');
  t.same(traffic.failures, [], `no failed request among ${traffic.sent}`);
  t.ok(traffic.sent > 10, 'requests were sent during the rollback');
  t.equal((await version())?.version, 'v1', 'the old env runs again');
  const third = await entry(3);
  t.match(third, { number: 3, trigger: 'rollback', rollbackOf: 1, commit: c1, status: 'succeeded' });
  t.equal(third.desiredHash, (await entry(1)).desiredHash, 'exactly the model of #1');

  const show = await ok(t, ['show', 'dev', '3', ...S], 'show the rollback');
  t.match(show.stdout, /trigger   rollback \(rollback of #1\)/);
  t.match(show.stdout, /model     1 app \(web ×2\), 0 services/);

  const plan = await cli(['plan', '--repo', repo.dir, '--ref', c1, '--format', 'json', ...S]);
  t.equal(plan.code, 0, 'planning the commit of #1 against the stage: no changes');
  t.same(JSON.parse(plan.stdout).stages[0].changes, []);
});

t.test('a pinned stage: plan says so, apply leaves it, status shows it; unpin lets the branch apply', async (t) => {
  const plan = await cli(['plan', '--repo', repo.dir, ...S]);
  t.match(plan.stdout, /pinned at #3 \(a rollback\), the branch is 1 commit ahead/);
  const apply = await ok(t, ['apply', '--repo', repo.dir, '--yes', ...S], 'apply of a pinned stage');
  t.match(apply.stdout, /skipped.*pinned at #3/s);
  t.equal((await version())?.version, 'v1', 'apply did not change the pinned stage');
  const status = await ok(t, ['status', 'dev', ...S], 'status');
  t.match(status.stdout, /pinned\s+pinned at #3 \(a rollback\), the branch is 1 commit ahead/);
  const pinAt2 = await cli(['pin', 'dev', '--at', '2', ...S]);
  t.equal(pinAt2.code, 1, 'pin --at a deployment the stage does not run is refused');
  t.match(pinAt2.stderr, /does not run the model of deployment #2.*setopsd rollback/);

  await ok(t, ['unpin', 'dev', ...S], 'unpin');
  await ok(t, ['apply', '--repo', repo.dir, '--yes', ...S], 'apply after unpin');
  t.equal((await version())?.version, 'v2');
  t.match(await entry(4), { trigger: 'cli', commit: c2, status: 'succeeded' });
});

t.test('redeploy restarts the processes with the same model', async (t) => {
  const before = new Set<number>();
  for (let i = 0; i < 6; i++) before.add((await version())!.pid);
  const r = await ok(t, ['redeploy', 'dev', '--yes', ...S], 'redeploy');
  t.match(r.stdout, /redeploy: restarts app\/web/);
  const after = (await version())!;
  t.equal(after.version, 'v2', 'same model');
  t.notOk(before.has(after.pid), 'answered by a new process');
  t.match(await entry(5), { trigger: 'redeploy', commit: c2, status: 'succeeded', desiredHash: (await entry(4)).desiredHash });
  const one = await ok(t, ['redeploy', 'dev', 'web', '--yes', ...S], 'redeploy STAGE APP');
  t.match(one.stdout, /redeploy: restarts app\/web with the model of deployment #5/);
  const unknown = await cli(['redeploy', 'dev', '--app', 'nosuch', '--yes', ...S]);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /has no app nosuch \(apps: web\)/);
});

t.test('a daemon plans a pinned stage and leaves it until unpin', async (t) => {
  await ok(t, ['pin', 'dev', ...S], 'pin');
  const daemon = startCli(['daemon', '--repo', repo.dir, '--branch', 'main', ...S, '--listen', '127.0.0.1:0', '--shutdown-timeout', '10s']);
  t.teardown(async () => {
    daemon.child.kill('SIGTERM');
    await daemon.done;
  });
  await waitFor('daemon.json', () => readFile(join(stateDir, 'daemon.json'), 'utf8').catch(() => undefined), { timeoutMs: 30_000 });
  repo.commit('v3', { 'setops.yaml': manifests('v3') });
  const record = () => readFile(join(stateDir, 'stages/acme/shop/dev/status.json'), 'utf8').then(JSON.parse);
  let last: unknown;
  const pinned = await waitFor('the daemon sees v3 and keeps the pin', async () => {
    const r = await record();
    last = r;
    return r.state === 'pinned' && /1 commit ahead; 1 change waits/.test(r.message) ? r : undefined;
  }, { timeoutMs: 30_000 }).catch((err: Error) => {
    throw new Error(`${err.message}; the status record: ${JSON.stringify(last)}`);
  });
  t.match(pinned.message, /pinned at #6, the branch is 1 commit ahead/);
  t.equal((await version())?.version, 'v2', 'the daemon did not apply the pinned stage');
  const unpin = await ok(t, ['unpin', 'dev', ...S], 'unpin');
  t.match(unpin.stdout, /the daemon at http:\/\/127\.0\.0\.1:\d+ looks at acme\/shop\/dev now/);
  await waitFor('v3 after unpin', async () => ((await version().catch(() => null))?.version === 'v3' ? true : undefined), { timeoutMs: 60_000 });
  t.pass('the daemon applied the branch after unpin');
});
