import t from 'tap';
import { lstat, mkdir, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HTTP_APP, REF, localDeps, makeIO, noChanges, setup, allGone } from './helpers.js';
import { app, service, stage } from '../../helpers/models.js';
import { createLocalEngine } from '../../../src/providers/local/index.js';
import { localPaths } from '../../../src/providers/local/paths.js';
import { findOnPath } from '../../../src/providers/executables.js';
import { tempDir } from '../../helpers/temp.js';
import { get } from '../../helpers/http.js';

const EXAMPLES = resolve(fileURLToPath(new URL('../../../examples', import.meta.url)));

t.test('postgresql: the example app reads its linked database through the router; data survives a re-apply', async (t) => {
  const { engine, io, stateDir } = await setup(t);
  const desired = stage({
    name: 'dev',
    apps: { web: app({ command: ['node', 'server.js'], workdir: 'app', public: true, healthCheck: { path: '/healthz', status: '200-399', interval: 0.2, timeout: 2, retries: 5, startPeriod: 10 }, links: { database: {} } }) },
    services: { database: service('postgresql') },
  });
  const result = await engine.apply(desired, noChanges(), io({ configRoot: EXAMPLES }));
  t.equal(result.status, 'succeeded', result.error?.message ?? '');
  const s = (await engine.status!(REF))!;
  t.equal(s.services.database!.status, 'running');
  const port = s.router!.port;
  const first = await get(port, '/', { host: 'web.dev.shop.localhost' });
  t.equal(first.status, 200, first.body);
  const body = JSON.parse(first.body) as { database: string; visits: number };
  t.equal(body.database, 'database');
  t.equal(body.visits, 1);

  const creds = localPaths(stateDir, REF).credentialsFile;
  t.equal((await stat(creds)).mode & 0o777, 0o600, 'generated passwords are in a 0600 file');
  const password = (JSON.parse(await readFile(creds, 'utf8')) as { services: Record<string, { password: string }> }).services.database!.password;
  const supLog = await readFile(localPaths(stateDir, REF).supervisorLog, 'utf8');
  t.notOk(supLog.includes(password), 'the supervisor log never holds the password');
  t.notOk(JSON.stringify(result).includes(password), 'the apply result never holds the password');
  t.notOk(JSON.stringify(s).includes(password), 'status never holds the password');

  // A changed env replaces the processes; the database (and its rows) stays.
  const changed = structuredClone(desired);
  changed.apps.web!.env = { GREETING: 'hello' };
  const again = await engine.apply(changed, noChanges(), io({ configRoot: EXAMPLES }));
  t.equal(again.status, 'succeeded', again.error?.message ?? '');
  const second = JSON.parse((await get(port, '/', { host: 'web.dev.shop.localhost' })).body) as { greeting: string; visits: number };
  t.equal(second.greeting, 'hello');
  t.equal(second.visits, 2, 'the rows written before are still there');
});

t.test('redis, s3 and volume: link variables and running servers', async (t) => {
  const redisBin = await findOnPath('redis-server', process.env);
  const { engine, io, stateDir } = await setup(t);
  const services = { files: service('s3'), disk: service('volume'), ...(redisBin ? { cache: service('redis') } : {}) };
  const links = { files: {}, disk: { envKey: 'DATA_DIR' }, ...(redisBin ? { cache: {} } : {}) };
  const desired = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, links }) }, services });
  const result = await engine.apply(desired, noChanges(), io());
  t.equal(result.status, 'succeeded', result.error?.message ?? '');
  const s = (await engine.status!(REF))!;
  const port = s.router!.port;
  const env = async (key: string) => (await get(port, `/env?key=${key}`, { host: 'web.dev.shop.localhost' })).body;
  const paths = localPaths(stateDir, REF);
  t.equal(await env('S3_BUCKET'), 'files');
  t.equal(await env('S3_PATH'), `${paths.dataDir}/files`);
  t.equal(await env('DATA_DIR'), `${paths.dataDir}/disk`, 'envKey names the variable');
  t.equal(await env('VOLUME_PATH'), '', 'no default variable when envKey is set');
  t.ok((await stat(`${paths.dataDir}/files`)).isDirectory());

  if (!redisBin) {
    t.comment('redis-server is not on the PATH: the redis part is skipped');
    return;
  }
  t.equal(s.services.cache!.status, 'running');
  t.match(await env('REDIS_URL'), /^redis:\/\/:[0-9a-f]+@127\.0\.0\.1:\d+$/);
  const r = JSON.parse((await get(port, '/redis', { host: 'web.dev.shop.localhost' })).body) as { auth: string; set: string; get: string };
  t.same(r, { auth: '+OK', set: '+OK', get: 'hello' }, 'the app talks to its redis with the generated password');

  // Deleting the service without data loss keeps its data; the server stops.
  const redisPid = ((JSON.parse(await readFile(paths.pidsFile, 'utf8')) as { pid: number; role: string }[]).find((p) => p.role === 'redis/cache'))!.pid;
  const without = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, links: { files: {}, disk: { envKey: 'DATA_DIR' } } }) }, services: { files: service('s3'), disk: service('volume') } });
  const removed = await engine.apply(without, noChanges(), io());
  t.equal(removed.status, 'succeeded', removed.error?.message ?? '');
  t.ok(await allGone([redisPid]), 'redis-server stopped');
  t.ok((await stat(`${paths.redisDir}/cache`)).isDirectory(), 'its data is kept without --allow-data-loss');
  const dropped = await engine.apply(stage({ name: 'dev', apps: { web: app(HTTP_APP) } }), noChanges(), io({ allowDataLoss: true }));
  t.equal(dropped.status, 'succeeded', dropped.error?.message ?? '');
  await t.rejects(stat(`${paths.dataDir}/files`), 'with data loss allowed the s3 directory goes');
});

t.test('as root with a state dir the postgres user cannot reach: the cluster lives under /var/lib/setopsd, removed with the data', { skip: process.getuid?.() === 0 ? false : 'only as root' }, async (t) => {
  const parent = tempDir(t, 'setopsd-private-');
  t.equal((await stat(parent)).mode & 0o777, 0o700, 'a private parent directory');
  // A cluster left by a deleted state directory is swept when a new one is placed.
  await mkdir('/var/lib/setopsd/postgres', { recursive: true });
  const stale = `/var/lib/setopsd/postgres/test-stale-${process.pid}`;
  await mkdir(stale, { recursive: true });
  await writeFile(`${stale}.owner`, join(parent, 'gone', 'local', 'postgres') + '\n');

  const stateDir = join(parent, 'state');
  const engine = createLocalEngine({ stateDir, deps: localDeps(), organization: { name: REF.organization, provider: 'local' } }, { stopGraceMs: 3000 });
  t.teardown(() => engine.destroy(REF, makeIO({ allowDataLoss: true })).then(() => {}, () => {}));
  const desired = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, links: { db: {} } }) }, services: { db: service('postgresql') } });
  const r = await engine.apply(desired, noChanges(), makeIO());
  t.equal(r.status, 'succeeded', r.error?.message ?? '');
  const link = localPaths(stateDir, REF).postgresDir;
  t.ok((await lstat(link)).isSymbolicLink(), 'the stage dir links to the cluster');
  const outside = await realpath(link);
  t.match(outside, /^\/var\/lib\/setopsd\/postgres\/[0-9a-f]{16}$/);
  t.ok((await stat(join(outside, 'PG_VERSION'))).isFile());
  await t.rejects(stat(stale), 'the stale cluster was swept');
  const port = (await engine.status!(REF))!.router!.port;
  t.equal((await get(port, '/env?key=PGDATABASE', { host: 'web.dev.shop.localhost' })).body, 'db');
  const d = await engine.destroy(REF, makeIO({ allowDataLoss: true }));
  t.equal(d.status, 'succeeded', d.error?.message ?? '');
  await t.rejects(stat(outside), 'destroy with data loss removes the cluster');
  await t.rejects(stat(`${outside}.owner`));
});
