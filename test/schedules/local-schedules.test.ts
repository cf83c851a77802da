/**
 * Scheduled tasks on the real local engine: an applied app's schedules reach its stage
 * supervisor, which runs them with croner in the app's environment (no PORT), keeps their output
 * in the schedule's log, skips a run while the previous one still runs (and logs that), and stops
 * them when the schedule or the app is removed. The runs here use croner's seconds field (the
 * supervisor runs any croner pattern; manifests allow five fields) so the test needs no minute.
 */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HTTP_APP, REF, noChanges, setup } from '../providers/local/helpers.js';
import { app, stage } from '../helpers/models.js';
import { localPaths } from '../../src/providers/local/paths.js';
import { findSupervisor } from '../../src/providers/local/launcher.js';
import { scheduleLogFile } from '../../src/providers/local/schedules.js';
import { waitFor } from '../helpers/wait.js';
import { runCli } from '../helpers/deps.js';
import { realClock, realSleep } from '../../src/sleep.js';

t.test('schedules are registered, run in the app\'s environment, skip while running, and go with their app', async (t) => {
  const { engine, io, stateDir } = await setup(t);
  const paths = localPaths(stateDir, REF);
  const desired = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { GREETING: 'from-schedule' }, schedules: { nightly: { cron: '0 3 * * *', command: 'echo nightly', timezone: 'Europe/Berlin' } } }) } });
  const applied = await engine.apply(desired, noChanges(), io());
  t.equal(applied.status, 'succeeded', applied.error?.message ?? '');
  const recorded = JSON.parse(await readFile(join(paths.localDir, 'schedules.json'), 'utf8'));
  t.same(recorded.apps.web, [{ name: 'nightly', cron: '0 3 * * *', timezone: 'Europe/Berlin', timeoutMs: 3_600_000, argv: ['/bin/sh', '-c', 'echo nightly'] }], 'the supervisor records the app\'s schedules');

  const cli = (argv: string[]) => runCli(argv, { clock: realClock, sleep: realSleep, env: process.env });
  const notYet = await cli(['logs', '--stage', 'dev', '--app', 'web', '--schedule', 'nightly', '--state-dir', stateDir]);
  t.match(notYet.stdout, /schedule nightly of app\/web in acme\/shop\/dev has not run yet/);
  const unknown = await cli(['logs', '--stage', 'dev', '--app', 'web', '--schedule', 'hourly', '--state-dir', stateDir]);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /app\/web in acme\/shop\/dev has no schedule hourly; its schedules: nightly/);

  // Every second, each run taking ~2.5 s: runs happen, and the ones due meanwhile are skipped.
  const client = (await findSupervisor(paths))!;
  const log = scheduleLogFile(paths, 'web', 'tick');
  await client.send('putSchedules', { params: { name: 'web' }, body: { schedules: [{ name: 'tick', cron: '* * * * * *', timeoutMs: 60_000, argv: ['/bin/sh', '-c', 'echo "greeting=$GREETING port=${PORT:-none}"; sleep 2.5'] }] } });
  await waitFor('two runs ended and a skipped one', async () => {
    const text = await readFile(log, 'utf8').catch(() => '');
    return (text.match(/run ended: exit code 0/g) ?? []).length >= 2 && /skipped: the previous run \(pid \d+\) still runs/.test(text);
  }, { timeoutMs: 20_000 });
  const text = await readFile(log, 'utf8');
  t.match(text, /\[setopsd\] run started: \/bin\/sh -c echo/);
  t.match(text, /greeting=from-schedule port=none/, 'the app\'s env, no PORT');
  const runs = text.split('\n').filter((l) => /run (started|ended)/.test(l)).map((l) => (l.includes('started') ? 'S' : 'E'));
  t.notMatch(runs.join(''), /SS/, 'never two runs at once');

  // Every apply sends the schedules again: an unchanged one keeps its job and its run in progress.
  const tick = { name: 'tick', cron: '* * * * * *', timeoutMs: 60_000, argv: ['/bin/sh', '-c', 'echo "greeting=$GREETING port=${PORT:-none}"; sleep 2.5'] };
  await waitFor('a run in progress', async () => /run started[^\n]*\n(?![\s\S]*run ended)/.test(await readFile(log, 'utf8')));
  const endedBefore = ((await readFile(log, 'utf8')).match(/run ended/g) ?? []).length;
  await client.send('putSchedules', { params: { name: 'web' }, body: { schedules: [tick] } });
  await waitFor('the run in progress ended', async () => ((await readFile(log, 'utf8')).match(/run ended/g) ?? []).length > endedBefore, { timeoutMs: 10_000 });
  t.notMatch(await readFile(log, 'utf8'), /run ended: signal/, 'no run was killed by the repeated schedules');

  const viaCli = await cli(['logs', '--stage', 'dev', '--app', 'web', '--schedule', 'nightly', '--state-dir', stateDir, '--lines', '5']);
  t.equal(viaCli.code, 0);

  // Removing the app removes its schedules: no new run starts.
  const gone = await engine.apply(stage({ name: 'dev', apps: {} }), noChanges(), io());
  t.equal(gone.status, 'succeeded', gone.error?.message ?? '');
  t.same(JSON.parse(await readFile(join(paths.localDir, 'schedules.json'), 'utf8')).apps, {});
  const settled = (await readFile(log, 'utf8')).split('\n').filter((l) => l.includes('run started')).length;
  await new Promise((r) => setTimeout(r, 1500)); // a due run would start within a second
  t.equal((await readFile(log, 'utf8')).split('\n').filter((l) => l.includes('run started')).length, settled, 'no run started after the app was removed');
});
