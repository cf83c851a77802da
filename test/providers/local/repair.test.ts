import t from 'tap';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { HTTP_APP, REF, setup } from './helpers.js';
import { app, stage } from '../../helpers/models.js';
import { localPaths } from '../../../src/providers/local/paths.js';
import { findMarked, isRunning, waitGone } from '../../../src/providers/local/proc.js';
import { OWNER_ENV } from '../../../src/providers/local/protocol.js';
import { planStage } from '../../../src/reconciler/stage-plan.js';
import { realClock, realSleep } from '../../../src/sleep.js';
import { get } from '../../helpers/http.js';

/** App processes of the test's stage (by the owner marker), sorted by pid. */
async function appPids(stateDir: string): Promise<number[]> {
  const owner = resolve(localPaths(stateDir, REF).stageDir);
  return (await findMarked(OWNER_ENV, owner)).filter((m) => m.role.startsWith('app/')).map((m) => m.pid);
}

t.test('a supervisor killed while its stage is in sync: plan shows the repair, apply brings the router back and adopts the processes', async (t) => {
  const { engine, io, stateDir } = await setup(t);
  const v1 = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { VERSION: 'v1' }, scale: 2 }) } });
  t.equal((await engine.apply(v1, planStage(v1, await engine.read(REF), 'local').changeset, io())).status, 'succeeded');
  const inSync = planStage(v1, await engine.read(REF), 'local');
  t.same(inSync.changeset.changes, [], 'in sync while everything runs');
  const port = (await engine.status!(REF))!.router!.port;
  const before = await appPids(stateDir);
  t.equal(before.length, 2);

  const sup = JSON.parse(await readFile(localPaths(stateDir, REF).supervisorFile, 'utf8')) as { pid: number };
  process.kill(sup.pid, 'SIGKILL');
  await waitGone(sup.pid, 5000, { clock: realClock, sleep: realSleep });
  t.same(await appPids(stateDir), before, 'the apps run on, unsupervised');

  const drift = planStage(v1, await engine.read(REF), 'local');
  const subjects = drift.changeset.changes.map((c) => `${c.subject} ${c.path}: ${String(c.before)} → ${String(c.after)}`);
  t.same(subjects, ['stage supervisor: not running → running', 'app/web processes: unsupervised → running'], 'plan shows the repair');
  t.match(drift.changeset.changes[0]!.reason, new RegExp(`router on 127\\.0\\.0\\.1:${port} is down`));
  t.match(drift.changeset.changes[1]!.reason, /2 processes still run without a supervisor/);

  const status = (await engine.status!(REF))!;
  t.match(status.notes?.join('\n'), /supervisor is not running: the router is down and 2 app processes run unsupervised; `setopsd apply` repairs/, 'status says what is down');
  t.match(status.apps.web!.note, /unsupervised: pid/);

  const repaired = await engine.apply(v1, drift.changeset, io());
  t.equal(repaired.status, 'succeeded', repaired.error?.message ?? '');
  t.equal((await get(port, '/', { host: 'web.dev.shop.localhost' })).status, 200, 'the router answers again on its port');
  t.same(await appPids(stateDir), before, 'the running processes were adopted: no duplicates, no restarts');
  for (const pid of before) t.ok(await isRunning(pid));
  t.same(planStage(v1, await engine.read(REF), 'local').changeset.changes, [], 'in sync again');
});
