import t from 'tap';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { HTTP_APP, FAST_HEALTH, REF, noChanges, setup } from './helpers.js';
import { app, service, stage } from '../../helpers/models.js';
import { localPaths } from '../../../src/providers/local/paths.js';
import { findMarked } from '../../../src/providers/local/proc.js';
import { OWNER_ENV } from '../../../src/providers/local/protocol.js';

/** Live processes of the stage: marked ones, its supervisor, its postmaster. */
async function stageProcesses(stateDir: string): Promise<string[]> {
  const paths = localPaths(stateDir, REF);
  const out = (await findMarked(OWNER_ENV, resolve(paths.stageDir))).map((m) => `${m.role} ${m.pid}`);
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmd = (await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ');
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    if (/\) Z /.test(stat)) continue;
    if (cmd.includes('supervisor-main') && cmd.includes(paths.stageDir)) out.push(`supervisor ${name}`);
    if (cmd.includes('postgres') && cmd.includes(paths.stageDir)) out.push(`postgres ${name}`);
  }
  return out;
}

t.test('a first apply that fails stops everything it started and says there was no previous version', async (t) => {
  const { engine, io, stateDir } = await setup(t);
  const broken = stage({
    name: 'dev',
    services: { db: service('postgresql') },
    apps: { web: app({ ...HTTP_APP, env: { UNHEALTHY: '1' }, links: { db: {} }, healthCheck: { ...FAST_HEALTH, startPeriod: 0.5, retries: 1 } }) },
  });
  const r = await engine.apply(broken, noChanges(), io());
  t.equal(r.status, 'failed');
  t.equal(r.error?.code, 'E_UNHEALTHY');
  t.notMatch(r.error?.message, /previous version keeps serving/, 'no claim of a previous version');
  t.match(r.error?.message, /no previous version of the app was running/);
  t.match(r.error?.message, /nothing was deployed before, so everything this apply started was stopped/);
  t.same(await stageProcesses(stateDir), [], 'no supervisor, no PostgreSQL, no app process left');
  const paths = localPaths(stateDir, REF);
  t.notOk(existsSync(paths.postgresDir), 'the cluster it initialised is removed (it held nothing)');
  t.notOk(existsSync(paths.credentialsFile), 'and so are the credentials it generated');
  t.equal((await engine.status!(REF)), null, 'status: not deployed, and truly nothing runs');
});

t.test('a failing change of a deployed app still says the previous version keeps serving, and keeps it', async (t) => {
  const { engine, io, stateDir } = await setup(t);
  const v1 = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { VERSION: 'v1' } }) } });
  t.equal((await engine.apply(v1, noChanges(), io())).status, 'succeeded');
  const bad = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { UNHEALTHY: '1' }, healthCheck: { ...FAST_HEALTH, startPeriod: 0.5, retries: 1 } }) } });
  const r = await engine.apply(bad, noChanges(), io());
  t.equal(r.status, 'failed');
  t.match(r.error?.message, /the previous version keeps serving/);
  t.notMatch(r.error?.message, /nothing was deployed before/);
  t.equal((await stageProcesses(stateDir)).filter((p) => p.startsWith('app/')).length, 1, 'v1 still runs');
});
