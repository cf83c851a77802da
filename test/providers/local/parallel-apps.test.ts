import t from 'tap';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { HTTP_APP, FAST_HEALTH, REF, noChanges, setup } from './helpers.js';
import { app, stage } from '../../helpers/models.js';
import { localPaths } from '../../../src/providers/local/paths.js';
import { findMarked } from '../../../src/providers/local/proc.js';
import { OWNER_ENV } from '../../../src/providers/local/protocol.js';

t.test('independent apps start and pass their health checks in parallel; one failing does not stop the others', async (t) => {
  const { engine, io, stateDir } = await setup(t);
  const paths = localPaths(stateDir, REF);
  const slow = (version: string) => app({ ...HTTP_APP, env: { VERSION: version, SLOW_START_MS: '1500' }, healthCheck: { ...FAST_HEALTH, startPeriod: 20 } });
  const desired = stage({ name: 'dev', apps: { alpha: slow('a'), beta: slow('b'), gamma: slow('c') } });
  const pending = engine.apply(desired, noChanges(), io());
  // Sequential starts would never have three apps starting at once: each would be listening
  // (healthy) before the next one's process exists.
  let together = false;
  for (let i = 0; i < 400 && !together; i++) {
    const roles = (await findMarked(OWNER_ENV, resolve(paths.stageDir))).map((m) => m.role.split('/')[1]);
    const listening = await Promise.all(['alpha', 'beta', 'gamma'].map((a) => readFile(`${paths.logsDir}/${a}.0.log`, 'utf8').then((s) => s.includes('listening'), () => false)));
    together = new Set(roles).size === 3 && listening.every((l) => !l);
    if (!together) await new Promise((r) => setTimeout(r, 25));
  }
  t.ok(together, 'all three apps were starting at the same time');
  const r = await pending;
  t.equal(r.status, 'succeeded', r.error?.message ?? '');

  // One broken app among changed ones: the others still roll out, the broken one keeps its old version.
  const next = stage({ name: 'dev', apps: { alpha: app({ ...HTTP_APP, env: { VERSION: 'a2' } }), beta: app({ ...HTTP_APP, command: ['node', '-e', 'process.exit(2)'] }), gamma: app({ ...HTTP_APP, env: { VERSION: 'c2' } }) } });
  const events = io();
  const r2 = await engine.apply(next, noChanges(), events);
  t.equal(r2.status, 'failed');
  t.match(r2.error?.message, /app\/beta in acme\/shop\/dev: process 0 of the new version exited 3 times/);
  t.same(events.events.filter((e) => e.status !== 'started').map((e) => `${e.subject} ${e.status}`).sort(), ['app/alpha succeeded', 'app/beta failed', 'app/gamma succeeded']);
  const s = (await engine.status!(REF))!;
  t.equal(s.apps.beta!.processes.length, 1, 'beta keeps its previous version');
});
