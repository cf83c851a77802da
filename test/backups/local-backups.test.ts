/**
 * Backups you can restore, on the real local engine (embedded PostgreSQL, redis-server, s3 and
 * volume directories), through the CLI: write data → `backup create` → change the data →
 * `backup restore` → read the original back, for every service type. Restore is refused without
 * --allow-data-loss (a protected stage says so) and changes nothing then; a damaged backup is
 * refused by its checksum; a restore takes a pre-restore backup that undoes it; a backup that
 * fails is recorded as failed, exits 1 and is sent to the stage's notifications.
 */
import t from 'tap';
import { readFile, readdir, writeFile, appendFile, realpath, rm } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { realClock, realSleep } from '../../src/sleep.js';
import type { Deps } from '../../src/deps.js';
import { RespClient } from '../../src/providers/local/backups/resp.js';
import { runCli } from '../helpers/deps.js';
import { killMentioning, processesMentioning } from '../e2e/helpers.js';
import { tempDir } from '../helpers/temp.js';
import { webhookReceiver } from '../helpers/receivers.js';

const dir = tempDir(t, 'setopsd-backups-');
const stateDir = join(dir, '.setopsd');
const stageDir = join(stateDir, 'stages/acme/shop/prod');
const hook = await webhookReceiver(t);

function run(argv: string[], over: Partial<Deps> = {}) {
  return runCli(argv, { clock: realClock, sleep: realSleep, env: process.env, cwd: dir, ...over });
}

t.teardown(async () => {
  // As root the cluster lives outside the temp dir (/var/lib/setopsd/postgres/<hash>, linked from
  // the stage): its server mentions only that path. The stage is protected, so no destroy here.
  const cluster = await realpath(join(stageDir, 'local/postgres')).catch(() => null);
  await killMentioning(dir);
  if (cluster !== null && cluster !== join(stageDir, 'local/postgres')) {
    await killMentioning(cluster);
    await rm(cluster, { recursive: true, force: true });
    await rm(`${cluster}.owner`, { force: true });
  }
});

await writeFile(
  join(dir, 'setops.yaml'),
  [
    'apiVersion: setopsd/v1\nkind: Organization\nmetadata: { name: acme }\nspec: { provider: local }',
    'apiVersion: setopsd/v1\nkind: Project\nmetadata: { name: shop }',
    `apiVersion: setopsd/v1\nkind: Stage\nmetadata: { name: prod, project: shop }\nspec:\n  protected: true\n  notifications: [ { webhook: "${hook.url}", events: [backup.failed] } ]`,
    'apiVersion: setopsd/v1\nkind: Service\nmetadata: { name: database, project: shop }\nspec: { type: postgresql, backup: { retentionDays: 7 } }',
    'apiVersion: setopsd/v1\nkind: Service\nmetadata: { name: cache, project: shop }\nspec: { type: redis }',
    'apiVersion: setopsd/v1\nkind: Service\nmetadata: { name: files, project: shop }\nspec: { type: s3 }',
    'apiVersion: setopsd/v1\nkind: Service\nmetadata: { name: disk, project: shop }\nspec: { type: volume }',
    '',
  ].join('\n---\n'),
);

const applied = await run(['apply', '--yes']);
if (applied.code !== 0) throw new Error(`apply failed: ${applied.stdout}${applied.stderr}`);

interface Creds {
  postgres: { port: number };
  services: Record<string, { password: string; port?: number }>;
}
const creds = async () => JSON.parse(await readFile(join(stageDir, 'local/credentials.json'), 'utf8')) as Creds;

async function sql<T = Record<string, unknown>>(query: string): Promise<T[]> {
  const c = await creds();
  const client = new pg.Client({ host: '127.0.0.1', port: c.postgres.port, user: 'database', password: c.services.database!.password, database: 'database' });
  await client.connect();
  try {
    return (await client.query(query)).rows as T[];
  } finally {
    await client.end();
  }
}

async function redis<T>(fn: (r: RespClient) => Promise<T>): Promise<T> {
  const c = (await creds()).services.cache!;
  const client = await RespClient.open(c.port!, c.password);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

const filesDir = join(stageDir, 'local/data/files');
const diskDir = join(stageDir, 'local/data/disk');

async function snapshot() {
  return {
    rows: (await sql<{ id: number; note: string }>('SELECT id, note FROM notes ORDER BY id')).map((r) => `${r.id}:${r.note}`),
    keys: await redis(async (r) => ({ greeting: await r.ok('GET', 'greeting'), extra: await r.call('GET', 'extra'), size: await r.ok('DBSIZE') })),
    files: (await readdir(filesDir)).sort(),
    object: await readFile(join(filesDir, 'object.txt'), 'utf8'),
    disk: await readFile(join(diskDir, 'state.txt'), 'utf8'),
  };
}

// The original data.
await sql("CREATE TABLE notes (id int PRIMARY KEY, note text); INSERT INTO notes VALUES (1, 'original')");
await redis(async (r) => r.ok('SET', 'greeting', 'original'));
await writeFile(join(filesDir, 'object.txt'), 'original object');
await writeFile(join(diskDir, 'state.txt'), 'original disk');
const original = await snapshot();

t.test('backup create: each service type, recorded with size, time and checksum', async (t) => {
  for (const service of ['database', 'cache', 'files', 'disk']) {
    const r = await run(['backup', 'create', 'prod', service]);
    t.equal(r.code, 0, `${service}: ${r.stdout}${r.stderr}`);
    t.match(r.stdout, new RegExp(`service/${service} in acme/shop/prod: backup \\d{8}T\\d{6}Z-[0-9a-f]{6} completed \\(`));
  }
  const list = await run(['backup', 'list', 'prod', 'database', '--format', 'json']);
  const { backups } = JSON.parse(list.stdout);
  t.match(backups, [{ service: 'database', type: 'postgresql', status: 'completed', trigger: 'manual', method: /pg_backup_start/, size: Number, sha256: /^[0-9a-f]{64}$/ }]);
  t.match((await run(['backup', 'list', 'prod', 'cache'])).stdout, /1 backup, newest first\n  \S+  completed  \S+  manual .* sha256 [0-9a-f]{12}/);
});

t.test('changed data; restore without --allow-data-loss is refused and changes nothing', async (t) => {
  await sql("UPDATE notes SET note = 'changed' WHERE id = 1; INSERT INTO notes VALUES (2, 'added later')");
  await redis(async (r) => (await r.ok('SET', 'greeting', 'changed'), await r.ok('SET', 'extra', 'added later')));
  await writeFile(join(filesDir, 'object.txt'), 'changed object');
  await writeFile(join(filesDir, 'later.txt'), 'added later');
  await appendFile(join(diskDir, 'state.txt'), ' + changed');
  const changed = await snapshot();
  t.notSame(changed, original);
  const r = await run(['backup', 'restore', 'prod', 'cache']);
  t.equal(r.code, 1);
  t.match(r.stderr, /restoring a backup replaces the current data of service\/cache in acme\/shop\/prod, a protected stage: refused without --allow-data-loss/);
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  t.same(await snapshot(), changed, 'nothing changed');
});

t.test('restore brings the original data back, for every service type', async (t) => {
  for (const service of ['database', 'cache', 'files', 'disk']) {
    const r = await run(['backup', 'restore', 'prod', service, '--allow-data-loss']);
    t.equal(r.code, 0, `${service}: ${r.stdout}${r.stderr}`);
    t.match(r.stdout, new RegExp(`service/${service} in acme/shop/prod: restored backup \\S+ \\(taken `));
  }
  t.same(await snapshot(), original, 'rows, keys, objects and volume files are those of the backup; later additions are gone');
  const leftovers = [];
  for (const pid of await processesMentioning(dir)) {
    if ((await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '')).includes('SETOPSD_LOCAL_ROLE=restore/')) leftovers.push(pid);
  }
  t.same(leftovers, [], 'the temporary redis-server of the restore is gone');
  t.same((await readdir(join(stageDir, 'local'))).filter((n) => /restore|replaced|pg-backup/.test(n)), [], 'no temporary directories are left');
});

t.test('the pre-restore backup undoes a restore', async (t) => {
  const { backups } = JSON.parse((await run(['backup', 'list', 'prod', 'cache', '--format', 'json'])).stdout);
  const safety = backups.find((b: { trigger: string }) => b.trigger === 'pre-restore');
  t.ok(safety, 'a pre-restore backup was taken');
  const r = await run(['backup', 'restore', 'prod', 'cache', '--id', safety.id, '--allow-data-loss']);
  t.equal(r.code, 0, r.stderr);
  t.same(await redis(async (c) => [await c.ok('GET', 'greeting'), await c.ok('GET', 'extra')]), ['changed', 'added later']);
});

t.test('a damaged backup is refused by its checksum and nothing changes', async (t) => {
  const { backups } = JSON.parse((await run(['backup', 'list', 'prod', 'files', '--format', 'json'])).stdout);
  const manual = backups.find((b: { trigger: string }) => b.trigger === 'manual');
  await appendFile(manual.file, 'garbage');
  const before = await readFile(join(filesDir, 'object.txt'), 'utf8');
  const r = await run(['backup', 'restore', 'prod', 'files', '--id', manual.id, '--allow-data-loss']);
  t.equal(r.code, 1);
  t.match(r.stderr, new RegExp(`backup ${manual.id} does not match its recorded checksum`));
  t.equal(await readFile(join(filesDir, 'object.txt'), 'utf8'), before);
  const missing = await run(['backup', 'restore', 'prod', 'files', '--id', '20200101T000000Z-abcdef', '--allow-data-loss']);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /has no backup 20200101T000000Z-abcdef; completed backups: /);
});

t.test('a backup that fails is recorded as failed, exits 1 and reaches the stage\'s notifications', async (t) => {
  // The redis service's password as the engine knows it is now wrong: AUTH fails.
  const file = join(stageDir, 'local/credentials.json');
  const good = await readFile(file, 'utf8');
  const c = JSON.parse(good) as Creds;
  c.services.cache!.password = 'not-the-password';
  await writeFile(file, JSON.stringify(c));
  t.teardown(() => writeFile(file, good));
  const r = await run(['backup', 'create', 'prod', 'cache']);
  t.equal(r.code, 1);
  t.match(r.stderr, /backup failed: redis on port \d+ refused AUTH/);
  const { backups } = JSON.parse((await run(['backup', 'list', 'prod', 'cache', '--format', 'json'])).stdout);
  t.match(backups[0], { status: 'failed', error: { code: 'E_BACKUP_FAILED' } });
  t.equal(hook.posts.length, 1);
  t.match(JSON.parse(hook.posts[0]!.body), { event: 'backup.failed', severity: 'error', data: { service: 'cache', backup: backups[0].id, error: { code: 'E_BACKUP_FAILED' } } });
});

t.test('bad input: an unknown service or verb says what exists', async (t) => {
  const r = await run(['backup', 'create', 'prod', 'nosuch']);
  t.equal(r.code, 1);
  t.match(r.stderr, /stage acme\/shop\/prod has no service nosuch; its services: cache, database, disk, files/);
  const v = await run(['backup', 'frobnicate', 'prod', 'cache']);
  t.equal(v.code, 1);
  t.match(v.stderr, /backup needs create, list or restore, got "frobnicate"/);
});
