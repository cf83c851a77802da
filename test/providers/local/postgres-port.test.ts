/** A PostgreSQL port another process took meanwhile: the stage's server moves to a free port instead of failing the apply. */
import t from 'tap';
import { createServer } from 'node:net';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { localPaths } from '../../../src/providers/local/paths.js';
import { HTTP_APP, REF, noChanges, setup } from './helpers.js';
import { app, service, stage } from '../../helpers/models.js';

t.test('the recorded PostgreSQL port is taken: the server starts on another one and the app gets its URL', async (t) => {
  const { engine, io, stateDir } = await setup(t);
  const squatter = createServer(() => undefined);
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
  const taken = (squatter.address() as { port: number }).port;
  const paths = localPaths(stateDir, REF);
  mkdirSync(dirname(paths.credentialsFile), { recursive: true });
  writeFileSync(paths.credentialsFile, JSON.stringify({ postgres: { port: taken, superPassword: 'a'.repeat(48) }, services: {} }), { mode: 0o600 });

  const model = stage({ name: 'dev', services: { db: service('postgresql') }, apps: { web: app({ ...HTTP_APP, links: { db: {} } }) } });
  const r = await engine.apply(model, noChanges(), io());
  t.equal(r.status, 'succeeded', r.error?.message ?? 'succeeded');
  const moved = JSON.parse(readFileSync(paths.credentialsFile, 'utf8')).postgres.port as number;
  t.not(moved, taken, 'recorded on a new port');
  const status = await engine.status!(REF);
  t.match(status?.services.db, { status: 'running', detail: new RegExp(`^127\\.0\\.0\\.1:${moved}/`) });
});
