import t from 'tap';
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HTTP_APP, FAST_HEALTH, FIXTURES, REF, noChanges, setup, allGone } from './helpers.js';
import { app, service, stage } from '../../helpers/models.js';
import { localPaths } from '../../../src/providers/local/paths.js';
import { environOf, isRunning } from '../../../src/providers/local/proc.js';
import { OWNER_ENV, ROLE_ENV } from '../../../src/providers/local/protocol.js';
import { findOnPath } from '../../../src/providers/executables.js';
import { waitFor } from '../../helpers/wait.js';
import { get } from '../../helpers/http.js';

const CHILD = fileURLToPath(new URL('./apply-child.ts', import.meta.url));

/** Every live process that carries this stage's owner marker, with its role. */
async function markedProcesses(stateDir: string): Promise<{ pid: number; role: string; env: Record<string, string> }[]> {
  const owner = resolve(localPaths(stateDir, REF).stageDir);
  const out: { pid: number; role: string; env: Record<string, string> }[] = [];
  for (const name of await readdir('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const env = await environOf(pid);
    if (env?.[OWNER_ENV] === owner && (await isRunning(pid))) out.push({ pid, role: env[ROLE_ENV] ?? '', env });
  }
  return out.sort((a, b) => a.role.localeCompare(b.role));
}

/** App processes: the process group leaders (a shell-form command may have children). */
async function appProcesses(stateDir: string) {
  return (await markedProcesses(stateDir)).filter((p) => p.role.startsWith('app/'));
}

t.test('SIGKILL of the process running apply, then a new apply: converged, one set of processes', async (t) => {
  const { engine, io, stateDir } = await setup(t);
  const v1 = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { VERSION: 'v1' }, scale: 2 }) } });
  t.equal((await engine.apply(v1, noChanges(), io())).status, 'succeeded');
  const port = (await engine.status!(REF))!.router!.port;

  // v2 starts slowly, so the child is killed while new processes are starting.
  const v2 = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { VERSION: 'v2', SLOW_START_MS: '1500' }, scale: 2 }) } });
  const modelFile = join(stateDir, 'v2.json');
  await writeFile(modelFile, JSON.stringify(v2));
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, stateDir, modelFile, FIXTURES], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => void child.kill('SIGKILL'));
  const childExit = new Promise((r) => child.on('exit', r));
  await waitFor('the new version starting', async () => (await appProcesses(stateDir)).length > 2, { timeoutMs: 20_000 });
  child.kill('SIGKILL');
  await childExit;
  // The supervisor notices the engine went away and stops the half-started version.
  await waitFor('the half-started version stopped', async () => (await appProcesses(stateDir)).length === 2, { timeoutMs: 20_000 });
  t.same((await appProcesses(stateDir)).map((p) => p.env.VERSION), ['v1', 'v1'], 'the old version kept running');
  t.equal(JSON.parse((await get(port, '/', { host: 'web.dev.shop.localhost' })).body).version, 'v1');
  t.same((await engine.read(REF)).model, v1, 'the recorded state is still v1');

  const again = await engine.apply(v2, noChanges(), io());
  t.equal(again.status, 'succeeded', again.error?.message ?? '');
  const procs = await appProcesses(stateDir);
  t.equal(procs.length, 2, 'exactly one set of processes');
  t.same(procs.map((p) => p.env.VERSION), ['v2', 'v2']);
  t.equal(JSON.parse((await get(port, '/', { host: 'web.dev.shop.localhost' })).body).version, 'v2');
  const sups = (await readdir('/proc')).filter((n) => /^\d+$/.test(n));
  let supervisors = 0;
  for (const pid of sups) {
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes('supervisor-main') && cmd.includes(localPaths(stateDir, REF).stageDir)) supervisors++;
  }
  t.equal(supervisors, 1, 'one supervisor for the stage');
});

t.test('supervisor killed mid-deployment: the next apply adopts the running version, stops the half-started one, no duplicates; data survives', async (t) => {
  const { engine, io, stateDir } = await setup(t);
  const redis = (await findOnPath('redis-server', process.env)) !== null;
  const services = { db: service('postgresql'), ...(redis ? { cache: service('redis') } : {}) };
  const v1 = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { VERSION: 'v1' }, scale: 2, links: { db: {} } }) }, services });
  t.equal((await engine.apply(v1, noChanges(), io())).status, 'succeeded');
  const port = (await engine.status!(REF))!.router!.port;
  t.equal(JSON.parse((await get(port, '/db', { host: 'web.dev.shop.localhost' })).body).visits, 1);
  const paths = localPaths(stateDir, REF);
  const sup = JSON.parse(await readFile(paths.supervisorFile, 'utf8')) as { pid: number };
  const before = (await appProcesses(stateDir)).map((p) => p.pid).sort();
  t.equal(before.length, 2);
  const postmaster = Number((await readFile(join(paths.postgresDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const redisPid = (JSON.parse(await readFile(paths.pidsFile, 'utf8')) as { pid: number; role: string }[]).find((p) => p.role === 'redis/cache')?.pid;
  if (!redis) t.comment('redis-server is not on the PATH: redis adoption is not checked');

  // A deployment of v2 is under way (its first process starting) when the supervisor dies.
  const slow = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { VERSION: 'v2', SLOW_START_MS: '60000' }, scale: 2, links: { db: {} }, healthCheck: { ...FAST_HEALTH, startPeriod: 60 } }) }, services });
  const pending = engine.apply(slow, noChanges(), io());
  const half = await waitFor('v2 starting', async () => (await appProcesses(stateDir)).find((p) => p.env.VERSION === 'v2'), { timeoutMs: 10_000 });
  process.kill(sup.pid, 'SIGKILL');
  const failed = await pending;
  t.equal(failed.status, 'failed', 'the apply in flight fails');
  t.match(failed.error?.message, /stage supervisor/);
  t.same(failed.actual.model, v1);
  t.equal((await appProcesses(stateDir)).length, 3, 'the orphans still run: two of v1, one half-started v2');
  const stopped = await engine.status!(REF);
  t.same(stopped!.apps.web!.processes, [], 'status reports the stage as not running, without starting anything');

  const again = await engine.apply(v1, noChanges(), io());
  t.equal(again.status, 'succeeded', again.error?.message ?? '');
  t.ok(await allGone([half!.pid]), 'the half-started process was stopped');
  const after = await appProcesses(stateDir);
  t.same(after.map((p) => p.pid).sort(), before, 'the running version was adopted, not restarted');
  const s = (await engine.status!(REF))!;
  t.equal(s.router!.port, port, 'the router port stays the same');
  t.same(s.apps.web!.processes.map((p) => p.pid).sort(), before);
  t.ok(s.apps.web!.processes.every((p) => p.healthy));
  t.ok(await isRunning(postmaster), 'the PostgreSQL server was adopted too');
  if (redis) {
    t.ok(redisPid && (await isRunning(redisPid)), 'the redis-server was adopted');
    t.equal((await engine.status!(REF))!.services.cache!.status, 'running');
  }
  t.equal(JSON.parse((await get(port, '/db', { host: 'web.dev.shop.localhost' })).body).visits, 2, 'the database kept its rows');

  // The adopted processes are supervised like any other: a new version replaces them.
  const v2 = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { VERSION: 'v2' }, scale: 2, links: { db: {} } }) }, services });
  t.equal((await engine.apply(v2, noChanges(), io())).status, 'succeeded');
  t.ok(await allGone(before), 'adopted processes stopped on replacement');
  t.same((await appProcesses(stateDir)).map((p) => p.env.VERSION), ['v2', 'v2']);
});

/** Supervisor processes of the test's stage. */
async function supervisors(stateDir: string): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmd = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes('supervisor-main') && cmd.includes(localPaths(stateDir, REF).stageDir) && (await isRunning(Number(name)))) out.push(Number(name));
  }
  return out;
}

t.test('two applies at once on a new stage: one supervisor, one set of processes', async (t) => {
  const { engine, io, stateDir } = await setup(t);
  const desired = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { VERSION: 'v1' }, scale: 2 }) } });
  const [a, b] = await Promise.all([engine.apply(desired, noChanges(), io()), engine.apply(desired, noChanges(), io())]);
  t.equal(a.status, 'succeeded', a.error?.message ?? '');
  t.equal(b.status, 'succeeded', b.error?.message ?? '');
  t.equal((await supervisors(stateDir)).length, 1, 'one supervisor');
  t.equal((await appProcesses(stateDir)).length, 2, 'one set of processes');
});

t.test('SIGTERM to the supervisor stops every process of the stage; the next apply brings them back', async (t) => {
  const { engine, io, stateDir } = await setup(t);
  const desired = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { VERSION: 'v1' } }) }, services: { db: service('postgresql') } });
  t.equal((await engine.apply(desired, noChanges(), io())).status, 'succeeded');
  const [sup] = await supervisors(stateDir);
  const apps = (await appProcesses(stateDir)).map((p) => p.pid);
  const postmaster = Number((await readFile(join(localPaths(stateDir, REF).postgresDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  process.kill(sup!, 'SIGTERM');
  await waitFor('everything stopped', () => allGone([sup!, ...apps, postmaster]), { timeoutMs: 20_000 });
  t.pass('supervisor, apps and postgres are gone');
  const again = await engine.apply(desired, noChanges(), io());
  t.equal(again.status, 'succeeded', again.error?.message ?? '');
  t.equal((await appProcesses(stateDir)).length, 1);
});

t.test('destroy with the supervisor killed still leaves no process', async (t) => {
  const { engine, io, stateDir } = await setup(t);
  const redis = (await findOnPath('redis-server', process.env)) !== null;
  const desired = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, scale: 2 }) }, services: { db: service('postgresql'), ...(redis ? { cache: service('redis') } : {}) } });
  t.equal((await engine.apply(desired, noChanges(), io())).status, 'succeeded');
  const [sup] = await supervisors(stateDir);
  const apps = (await appProcesses(stateDir)).map((p) => p.pid);
  const redisPids = (JSON.parse(await readFile(localPaths(stateDir, REF).pidsFile, 'utf8')) as { pid: number; role: string }[]).filter((p) => p.role.startsWith('redis/')).map((p) => p.pid);
  t.equal(redisPids.length, redis ? 1 : 0);
  const postmaster = Number((await readFile(join(localPaths(stateDir, REF).postgresDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  process.kill(sup!, 'SIGKILL');
  await waitFor('supervisor gone', () => allGone([sup!]), { timeoutMs: 10_000 });
  const r = await engine.destroy(REF, io());
  t.equal(r.status, 'succeeded', r.error?.message ?? '');
  t.ok(await allGone([...apps, postmaster, ...redisPids]), 'the orphaned apps, postmaster and redis-server were stopped');
  t.same(await appProcesses(stateDir), []);
  t.same(await supervisors(stateDir), []);
  t.ok((await readdir(localPaths(stateDir, REF).postgresDir)).includes('PG_VERSION'), 'without --allow-data-loss the data stays');
});
