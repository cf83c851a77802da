import t from 'tap';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { HTTP_APP, REF, noChanges, setup } from './helpers.js';
import { app, service, stage } from '../../helpers/models.js';
import { localPaths } from '../../../src/providers/local/paths.js';

t.test('each service role connects only to its own database, like separate RDS instances', async (t) => {
  const { engine, io, stateDir } = await setup(t);
  const desired = stage({
    name: 'dev',
    services: { orders: service('postgresql'), billing: service('postgresql') },
    apps: { web: app({ ...HTTP_APP, links: { orders: {} } }) },
  });
  const r = await engine.apply(desired, noChanges(), io());
  t.equal(r.status, 'succeeded', r.error?.message ?? '');
  const creds = JSON.parse(await readFile(localPaths(stateDir, REF).credentialsFile, 'utf8')) as { postgres: { port: number }; services: Record<string, { password: string }> };
  const port = creds.postgres.port;
  const as = (service: string, database: string) => new pg.Client({ host: '127.0.0.1', port, user: service, password: creds.services[service]!.password, database });

  const own = as('orders', 'orders');
  await own.connect();
  await own.query('create table items (id int)');
  t.same((await own.query('select current_database() as db')).rows, [{ db: 'orders' }], 'its own database: yes');
  await own.end();

  for (const [user, database] of [['billing', 'orders'], ['orders', 'billing'], ['orders', 'postgres'], ['billing', 'template1']] as const) {
    const other = as(user, database);
    other.on('error', () => {});
    await t.rejects(other.connect(), { code: '42501', message: new RegExp(`permission denied for database "?${database}"?`) }, `${user} cannot connect to ${database}`);
    await other.end().catch(() => {});
  }

  // Re-applying keeps it so (the grants are idempotent), and the linked app still connects.
  t.equal((await engine.apply(desired, noChanges(), io())).status, 'succeeded');
  const again = as('orders', 'orders');
  await again.connect();
  t.same((await again.query("select count(*)::int as n from information_schema.tables where table_name = 'items'")).rows, [{ n: 1 }]);
  await again.end();
});
