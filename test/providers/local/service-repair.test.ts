import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'node:net';
import pg from 'pg';
import { REF, setup } from './helpers.js';
import { service, stage } from '../../helpers/models.js';
import { localPaths } from '../../../src/providers/local/paths.js';
import { findOnPath } from '../../../src/providers/executables.js';
import { isRunning, waitGone } from '../../../src/providers/local/proc.js';
import { planStage } from '../../../src/reconciler/stage-plan.js';
import { realClock, realSleep } from '../../../src/sleep.js';

interface Creds {
  postgres: { port: number };
  services: Record<string, { password: string; port?: number }>;
}

/** Sends `AUTH password` and `command` to the stage's redis service `cache`; the raw replies. */
async function redis(stateDir: string, command: string[]): Promise<string> {
  const creds = JSON.parse(await readFile(localPaths(stateDir, REF).credentialsFile, 'utf8')) as Creds;
  const { password, port } = creds.services.cache!;
  const resp = (args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: port! });
    let out = '';
    s.on('connect', () => s.write(resp(['AUTH', password]) + resp(command)));
    s.on('data', (d) => {
      out += d;
      if (out.split('\r\n').length > 2 && !/^\+OK\r\n\$\d+\r\n$/.test(out)) {
        s.destroy();
        resolve(out);
      }
    });
    s.on('error', reject);
  });
}

/** Runs `sql` as the service's own role in its own database. */
async function query(stateDir: string, sql: string): Promise<unknown[]> {
  const creds = JSON.parse(await readFile(localPaths(stateDir, REF).credentialsFile, 'utf8')) as Creds;
  const client = new pg.Client({ host: '127.0.0.1', port: creds.postgres.port, user: 'db', password: creds.services.db!.password, database: 'db' });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

t.test('a PostgreSQL server killed with SIGKILL under a living supervisor: status says down, plan shows the repair, apply restarts it with its data', async (t) => {
  const { engine, io, stateDir } = await setup(t);
  const desired = stage({ name: 'dev', services: { db: service('postgresql') } });
  const first = await engine.apply(desired, planStage(desired, await engine.read(REF), 'local').changeset, io());
  t.equal(first.status, 'succeeded', first.error?.message ?? '');
  await query(stateDir, 'CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders VALUES (42)');
  t.equal((await engine.status!(REF))!.services.db!.status, 'running');
  t.same(planStage(desired, await engine.read(REF), 'local').changeset.changes, [], 'in sync while it runs');

  const paths = localPaths(stateDir, REF);
  const supervisor = (JSON.parse(await readFile(paths.supervisorFile, 'utf8')) as { pid: number }).pid;
  const postmaster = Number((await readFile(join(paths.postgresDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  t.ok(postmaster > 0 && (await isRunning(postmaster)), `the postmaster (pid ${postmaster}) runs`);
  process.kill(postmaster, 'SIGKILL');
  t.ok(await waitGone(postmaster, 10_000, { clock: realClock, sleep: realSleep }), 'the postmaster is gone');
  t.ok(await isRunning(supervisor), 'the supervisor lives on');

  const down = (await engine.status!(REF))!.services.db!;
  t.equal(down.status, 'stopped', 'status says the server is down');
  t.match(down.detail, new RegExp(`the server process \\(pid ${postmaster}\\) is not running; setopsd apply starts it again`));

  const drift = planStage(desired, await engine.read(REF), 'local');
  t.same(drift.changeset.changes.map((c) => `${c.subject} ${c.path}: ${String(c.before)} → ${String(c.after)}`), ['service/db server: down → running'], 'plan shows the repair');
  t.match(drift.changeset.changes[0]!.reason, /postgresql server is down: the server process \(pid \d+\) is not running; apply starts it again with its data/);

  const repaired = await engine.apply(desired, drift.changeset, io());
  t.equal(repaired.status, 'succeeded', repaired.error?.message ?? '');
  t.equal((await engine.status!(REF))!.services.db!.status, 'running', 'running again');
  t.ok(await isRunning(supervisor), 'the same supervisor repaired it');
  const restarted = Number((await readFile(join(paths.postgresDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  t.not(restarted, postmaster, 'a new postmaster');
  t.same(await query(stateDir, 'SELECT id FROM orders'), [{ id: 42 }], 'the data is intact');
  t.same(planStage(desired, await engine.read(REF), 'local').changeset.changes, [], 'in sync again');

  const creds = JSON.parse(await readFile(paths.credentialsFile, 'utf8')) as Creds;
  const said = JSON.stringify([down, drift.changeset, repaired]) + (await readFile(paths.supervisorLog, 'utf8'));
  t.notOk(said.includes(creds.services.db!.password), 'no password in status, plan, result or supervisor log');
});

t.test('a redis-server that stops answering under a living supervisor: status says down, plan shows the repair, apply replaces it with its data', { skip: (await findOnPath('redis-server', process.env)) ? false : 'redis-server is not on the PATH' }, async (t) => {
  const { engine, io, stateDir } = await setup(t);
  const desired = stage({ name: 'dev', services: { cache: service('redis') } });
  const first = await engine.apply(desired, planStage(desired, await engine.read(REF), 'local').changeset, io());
  t.equal(first.status, 'succeeded', first.error?.message ?? '');
  t.equal(await redis(stateDir, ['SET', 'order', '42']), '+OK\r\n+OK\r\n');
  t.equal((await engine.status!(REF))!.services.cache!.status, 'running');

  const paths = localPaths(stateDir, REF);
  const server = (JSON.parse(await readFile(paths.pidsFile, 'utf8')) as { pid: number; role: string }[]).find((p) => p.role === 'redis/cache')!.pid;
  // Stopped, it still completes TCP handshakes: only a PING tells that it does not serve.
  process.kill(server, 'SIGSTOP');
  const down = (await engine.status!(REF))!.services.cache!;
  t.equal(down.status, 'stopped', 'status says the server is down');
  t.match(down.detail, new RegExp(`redis-server \\(pid ${server}\\) does not answer on 127\\.0\\.0\\.1:\\d+; setopsd apply starts it again`));
  const drift = planStage(desired, await engine.read(REF), 'local');
  t.same(drift.changeset.changes.map((c) => `${c.subject} ${c.path}: ${String(c.before)} → ${String(c.after)}`), ['service/cache server: down → running'], 'plan shows the repair');

  const repaired = await engine.apply(desired, drift.changeset, io());
  t.equal(repaired.status, 'succeeded', repaired.error?.message ?? '');
  t.ok(await waitGone(server, 1000, { clock: realClock, sleep: realSleep }), 'the hung server was stopped');
  t.equal((await engine.status!(REF))!.services.cache!.status, 'running', 'a new one runs');
  t.match(await redis(stateDir, ['GET', 'order']), /\$2\r\n42\r\n$/, 'with the data (append-only file)');
  t.same(planStage(desired, await engine.read(REF), 'local').changeset.changes, [], 'in sync again');
});
