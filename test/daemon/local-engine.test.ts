/**
 * `setopsd daemon` as a real process on the real local engine: a commit reaches the app behind
 * the stage router; SIGTERM stops the daemon cleanly (the stage keeps serving); a daemon killed
 * with SIGKILL in the middle of an apply is replaced by a new one that converges with one set of
 * processes; manifests are data — planning never runs their code.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { chmod, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gitRepo } from '../helpers/git.js';
import { tempDir } from '../helpers/temp.js';
import { cli, killMentioning, processesMentioning, repoRoot, startCli } from '../e2e/helpers.js';
import { get } from '../helpers/http.js';
import { waitFor } from '../helpers/wait.js';

const manifests = (version: string, extra: { slowStartMs?: number; approval?: 'auto' | 'manual'; command?: string; secret?: boolean } = {}) => `apiVersion: setopsd/v1
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
spec: { approval: ${extra.approval ?? 'auto'} }
---
apiVersion: setopsd/v1
kind: App
metadata: { name: web, project: shop }
spec:
  command: ${extra.command ?? '[node, http-app.mjs]'}
  workdir: apps
  public: true
  scale: 2
  healthCheck: { path: /health }
  env: { VERSION: ${version}, SLOW_START_MS: "${extra.slowStartMs ?? 0}"${extra.secret ? ', API_TOKEN: { secret: API_TOKEN }' : ''} }
`;

interface Info {
  pid: number;
  url: string;
  token: string;
}

async function setup(t: { teardown(fn: () => unknown): void }) {
  const stateDir = tempDir(t, 'setopsd-daemon-e2e-');
  const repo = gitRepo(t);
  await symlink(join(repoRoot, 'test/fixtures/local-apps'), join(repo.dir, 'apps'));
  const start = () => startCli(['daemon', '--repo', repo.dir, '--branch', 'main', '--state-dir', stateDir, '--listen', '127.0.0.1:0', '--shutdown-timeout', '10s']);
  const info = async (notPid?: number): Promise<Info> =>
    waitFor('daemon.json', async () => {
      const text = await readFile(join(stateDir, 'daemon.json'), 'utf8').catch(() => null);
      const parsed = text ? (JSON.parse(text) as Info) : null;
      return parsed && parsed.pid !== notPid ? parsed : undefined;
    }, { timeoutMs: 30_000 });
  const record = async () => JSON.parse(await readFile(join(stateDir, 'stages/acme/shop/dev/status.json'), 'utf8').catch(() => 'null'));
  const routerPort = async () => JSON.parse(await readFile(join(stateDir, 'stages/acme/shop/dev/local/router.json'), 'utf8')).port as number;
  const answers = (version: string) =>
    waitFor(`${version} through the router`, async () => {
      const g = await get(await routerPort(), '/', { host: 'web.dev.shop.localhost' }).catch(() => null);
      return g?.status === 200 && g.body.includes(`"version":"${version}"`) ? g : undefined;
    }, { timeoutMs: 60_000 });
  t.teardown(async () => {
    await cli(['destroy', 'dev', '--yes', '--allow-data-loss', '--state-dir', stateDir]).catch(() => undefined);
    await killMentioning(stateDir);
  });
  return { stateDir, repo, start, info, record, answers, routerPort };
}

t.test('commit → applied; SIGTERM stops cleanly; SIGKILL mid-apply → the next daemon converges with one set of processes', async (t) => {
  const s = await setup(t);
  s.repo.commit('v1', { 'setops.yaml': manifests('v1') });
  const first = s.start();
  const one = await s.info();
  await s.answers('v1');
  const c2 = s.repo.commit('v2', { 'setops.yaml': manifests('v2') });
  await s.answers('v2');
  await waitFor('status record at v2', async () => ((await s.record())?.lastAppliedRevision === c2 ? true : undefined), { timeoutMs: 30_000 });

  first.child.kill('SIGTERM');
  const exit = await first.done;
  t.equal(exit.code, 0, exit.stderr);
  t.match(exit.stderr, /setopsd daemon: stopped/);
  t.notOk(existsSync(join(s.stateDir, 'daemon.json')), 'daemon.json removed on a clean stop');
  await s.answers('v2'); // the stage keeps serving without the daemon

  // A slow new version, and the daemon killed while it rolls out.
  const c3 = s.repo.commit('v3', { 'setops.yaml': manifests('v3', { slowStartMs: 1500 }) });
  const second = s.start();
  await s.info(one.pid);
  await waitFor('v3 deploying', async () => ((await s.record())?.state === 'reconciling' ? true : undefined), { timeoutMs: 30_000 });
  second.child.kill('SIGKILL');
  await second.done;

  const third = s.start();
  await s.info();
  await s.answers('v3');
  await waitFor('status record at v3', async () => ((await s.record())?.state === 'ready' && (await s.record())?.lastAppliedRevision === c3 ? true : undefined), { timeoutMs: 60_000 });
  const apps = (await processesMentioning(s.stateDir)).length;
  const webs = [];
  for (const pid of await processesMentioning('http-app.mjs')) if ((await processesMentioning(s.stateDir)).includes(pid)) webs.push(pid);
  t.equal(webs.length, 2, `one set of processes: scale 2 (of ${apps} processes of the stage)`);
  third.child.kill('SIGTERM');
  t.equal((await third.done).code, 0);
});

t.test('manifests are data: a held plan runs nothing of the repository', async (t) => {
  const s = await setup(t);
  const marker = join(s.stateDir, 'pwned');
  s.repo.commit('evil', { 'setops.yaml': manifests('v1', { approval: 'manual', command: `[sh, -c, "touch ${marker}"]` }) });
  const d = s.start();
  await s.info();
  await waitFor('plan held', async () => ((await s.record())?.state === 'waiting-approval' ? true : undefined), { timeoutMs: 30_000 });
  t.notOk(existsSync(marker), 'loading, validating and planning ran no command of the manifests');
  d.child.kill('SIGTERM');
  t.equal((await d.done).code, 0);
});

t.test('a supervisor killed with SIGKILL is found as drift and, with --self-heal, brought back without a commit', async (t) => {
  const s = await setup(t);
  s.repo.commit('v1', { 'setops.yaml': manifests('v1') });
  const d = startCli(['daemon', '--repo', s.repo.dir, '--state-dir', s.stateDir, '--listen', '127.0.0.1:0', '--drift-interval', '500ms', '--self-heal']);
  await s.info();
  await s.answers('v1');
  const supervisorFile = join(s.stateDir, 'stages/acme/shop/dev/local/supervisor.json');
  const before = JSON.parse(await readFile(supervisorFile, 'utf8')).pid as number;
  process.kill(before, 'SIGKILL');
  const journalDir = join(s.stateDir, 'stages/acme/shop/dev/journal');
  await waitFor('a repair deployment', async () => {
    const { readdir } = await import('node:fs/promises');
    return (await readdir(journalDir)).length >= 2 ? true : undefined;
  }, { timeoutMs: 60_000 });
  await waitFor('a new supervisor', async () => {
    const now = JSON.parse(await readFile(supervisorFile, 'utf8').catch(() => '{}')).pid as number | undefined;
    return now !== undefined && now !== before ? now : undefined;
  }, { timeoutMs: 60_000 });
  await s.answers('v1');
  await waitFor('ready, drift cleared', async () => {
    const r = await s.record();
    return r?.state === 'ready' && !r.drift ? r : undefined;
  }, { timeoutMs: 30_000 });
  d.child.kill('SIGTERM');
  t.equal((await d.done).code, 0);
});

t.test('a rotated secret is drift (by digest, without its value); --self-heal rolls it out to new processes', async (t) => {
  const s = await setup(t);
  const secrets = join(tempDir(t, 'setopsd-daemon-secrets-'), 'secrets.env');
  const first = `canary-first-${process.pid}-a1`;
  const second = `canary-second-${process.pid}-b2`;
  const third = `canary-third-${process.pid}-c3`;
  await writeFile(secrets, `API_TOKEN=${first}\n`);
  await chmod(secrets, 0o600);
  s.repo.commit('v1', { 'setops.yaml': manifests('v1', { secret: true }) });
  const daemon = (...more: string[]) => startCli(['daemon', '--repo', s.repo.dir, '--state-dir', s.stateDir, '--listen', '127.0.0.1:0', '--secrets', secrets, '--drift-interval', '300ms', ...more]);
  const token = async () => (await get(await s.routerPort(), '/env?key=API_TOKEN', { host: 'web.dev.shop.localhost' }).catch(() => null))?.body;

  const watching = daemon();
  const one = await s.info();
  await s.answers('v1');
  t.equal(await token(), first, 'the processes got the first value');
  await writeFile(secrets, `API_TOKEN=${second}\n`);
  const drifted = await waitFor('the rotation reported as drift', async () => {
    const r = await s.record();
    return r?.drift?.length ? r : undefined;
  }, { timeoutMs: 30_000 });
  t.same(drifted.drift, ['app/web env.API_TOKEN: (secret API_TOKEN) has another value than the running processes got']);
  t.equal(drifted.state, 'ready', 'drift is reported, the stage is not failed');
  t.equal(await token(), first, 'without --self-heal nothing is rolled out');
  const journal = join(s.stateDir, 'stages/acme/shop/dev/journal');
  t.equal((await readdir(journal)).length, 1, 'no deployment');
  watching.child.kill('SIGTERM');
  const stopped = await watching.done;
  t.equal(stopped.code, 0, stopped.stderr);

  // A new daemon converges on start (the rotated value is a change of the plan); then a rotation
  // while it runs is found by the drift check and, with --self-heal, rolled out.
  const healing = daemon('--self-heal');
  await s.info(one.pid);
  await waitFor('the second value served after the start', async () => ((await token()) === second ? true : undefined), { timeoutMs: 60_000 });
  await waitFor('two deployments', async () => ((await readdir(journal)).length === 2 ? true : undefined), { timeoutMs: 30_000 });
  await waitFor('ready', async () => ((await s.record())?.state === 'ready' ? true : undefined), { timeoutMs: 30_000 });
  await writeFile(secrets, `API_TOKEN=${third}\n`);
  await waitFor('the third value served by new processes', async () => ((await token()) === third ? true : undefined), { timeoutMs: 60_000 });
  await waitFor('ready, drift cleared', async () => {
    const r = await s.record();
    return r?.state === 'ready' && !r.drift?.length ? r : undefined;
  }, { timeoutMs: 30_000 });
  const entries = (await readdir(journal)).sort();
  t.equal(entries.length, 3, 'one repair deployment after the rotation');
  const repair = JSON.parse(await readFile(join(journal, entries.at(-1)!), 'utf8'));
  t.match(JSON.stringify(repair), /env\.API_TOKEN/, 'the repair rolled out the rotated secret');
  healing.child.kill('SIGTERM');
  const done = await healing.done;
  t.equal(done.code, 0, done.stderr);

  // Canaries: no value in the daemon's output, status record, journal, models, state or logs (only the
  // supervisor's own runtime spec, local/desired.json, holds the values its processes run with).
  const texts = [stopped.stdout, stopped.stderr, done.stdout, done.stderr];
  for (const e of await readdir(join(s.stateDir, 'stages'), { withFileTypes: true, recursive: true })) {
    const path = join(e.parentPath, e.name);
    if (e.isFile() && !path.endsWith(join('local', 'desired.json'))) texts.push(await readFile(path, 'utf8').catch(() => ''));
  }
  t.ok(texts.length > 8, `state files read (${texts.length - 4})`);
  for (const text of texts) if ([first, second, third].some((v) => text.includes(v))) t.fail(`a secret value leaked: ${text.slice(0, 200)}`);
});
