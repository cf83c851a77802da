/**
 * `setopsd apply --repo PATH --ref REF` and a saved plan of a git source: the journal records the
 * commit and ref that were applied (real git repository, real local engine).
 */
import t from 'tap';
import { readFile, readdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { realClock, realSleep } from '../../src/sleep.js';
import { runCli } from '../helpers/deps.js';
import { gitRepo } from '../helpers/git.js';
import { killMentioning, repoRoot } from '../e2e/helpers.js';
import { tempDir } from '../helpers/temp.js';
import { waitFor } from '../helpers/wait.js';
import { get } from '../helpers/http.js';

const manifests = (version: string) => `apiVersion: setopsd/v1
kind: Organization
metadata: { name: acme }
spec: { provider: local }
---
apiVersion: setopsd/v1
kind: Project
metadata: { name: shop }
spec: {}
---
apiVersion: setopsd/v1
kind: Stage
metadata: { name: dev, project: shop }
spec: {}
---
apiVersion: setopsd/v1
kind: App
metadata: { name: web, project: shop }
spec:
  command: [node, http-app.mjs]
  workdir: apps
  public: true
  healthCheck: { path: /health }
  env: { VERSION: ${version} }
`;

t.test('apply from a git ref and from a saved plan records commit, ref and trigger', async (t) => {
  const stateDir = tempDir(t, 'setopsd-apply-git-state-');
  const repo = gitRepo(t);
  await symlink(join(repoRoot, 'test/fixtures/local-apps'), join(repo.dir, 'apps'));
  const first = repo.commit('v1', { 'setops.yaml': manifests('v1') });
  const run = (argv: string[]) => runCli([...argv, '--state-dir', stateDir], { clock: realClock, sleep: realSleep, env: process.env, cwd: repo.dir });
  t.teardown(async () => {
    await run(['destroy', 'dev', '--yes', '--allow-data-loss']).catch(() => undefined);
    await killMentioning(stateDir);
  });
  const journal = async () => {
    const jdir = join(stateDir, 'stages/acme/shop/dev/journal');
    const names = (await readdir(jdir)).sort();
    return Promise.all(names.map(async (n) => JSON.parse(await readFile(join(jdir, n), 'utf8'))));
  };

  const r = await run(['apply', '--repo', repo.dir, '--ref', 'main', '--yes']);
  t.equal(r.code, 0, r.stdout + r.stderr);
  t.match((await journal())[0], { number: 1, status: 'succeeded', commit: first, ref: 'main', trigger: 'cli' });

  const second = repo.commit('v2', { 'setops.yaml': manifests('v2') });
  const planFile = join(stateDir, 'v2.plan');
  const planned = await run(['plan', '--detailed-exitcode', '--repo', repo.dir, '--ref', 'main', '--out', planFile]);
  t.equal(planned.code, 2, planned.stderr);
  const applied = await run(['apply', planFile]);
  t.equal(applied.code, 0, applied.stdout + applied.stderr);
  t.match((await journal())[1], { number: 2, status: 'succeeded', commit: second, ref: 'main', trigger: 'plan-file' });

  const history = await run(['history', 'dev']);
  t.match(history.stdout, new RegExp(`#2\\s+succeeded\\s+apply\\s+plan-file\\s+${second.slice(0, 12)}`));
  const status = JSON.parse((await run(['status', '--format', 'json'])).stdout).stages[0];
  const res = await waitFor('v2 through the router', async () => {
    const g = await get(status.runtime.router.port, '/', { host: 'web.dev.shop.localhost' });
    return g.status === 200 && g.body.includes('v2') ? g : undefined;
  }, { timeoutMs: 20_000 });
  t.match(res.body, /"version":"v2"/);
});

t.test('with --dir, an app workdir is relative to the folder that holds the manifests', async (t) => {
  const stateDir = tempDir(t, 'setopsd-apply-gitdir-state-');
  const repo = gitRepo(t);
  repo.commit('scaffold', { 'config/.keep': '' });
  await symlink(join(repoRoot, 'test/fixtures/local-apps'), join(repo.dir, 'config/apps'));
  repo.commit('v1', { 'config/setops.yaml': manifests('v1') });
  const run = (argv: string[]) => runCli([...argv, '--state-dir', stateDir], { clock: realClock, sleep: realSleep, env: process.env, cwd: repo.dir });
  t.teardown(async () => {
    await run(['destroy', 'dev', '--yes', '--allow-data-loss']).catch(() => undefined);
    await killMentioning(stateDir);
  });

  const r = await run(['apply', '--repo', repo.dir, '--ref', 'main', '--dir', 'config', '--yes']);
  t.equal(r.code, 0, r.stdout + r.stderr);
  const status = JSON.parse((await run(['status', '--format', 'json'])).stdout).stages[0];
  const res = await waitFor('v1 through the router', async () => {
    const g = await get(status.runtime.router.port, '/', { host: 'web.dev.shop.localhost' });
    return g.status === 200 ? g : undefined;
  }, { timeoutMs: 20_000 });
  t.match(res.body, /"version":"v1"/);
});

t.test('invalid manifests: apply names the file relative to the working directory and applies nothing', async (t) => {
  const stateDir = tempDir(t, 'setopsd-apply-invalid-state-');
  const repo = gitRepo(t);
  repo.commit('bad', { 'config/setops.yaml': manifests('v1').replace('public: true', 'public: maybe') });
  const { code, stderr } = await runCli(['apply', 'config', '--yes', '--state-dir', stateDir], { clock: realClock, sleep: realSleep, env: process.env, cwd: repo.dir });
  t.equal(code, 1);
  t.match(stderr, /^config\/setops\.yaml:\d+:\d+: \/spec\/public: /m);
  t.same(await readdir(stateDir), [], 'nothing recorded');
});
