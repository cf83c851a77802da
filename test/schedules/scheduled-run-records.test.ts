/**
 * The task records of the supervisor's scheduled runs (AppSchedules with real processes, outside
 * a supervisor): a run the supervisor kills because its app went is canceled, not failed (the
 * daemon does not notify it); runs an earlier supervisor did not see end are closed as canceled
 * when the next one restores the schedules, and nothing else is touched.
 */
import t from 'tap';
import { mkdir } from 'node:fs/promises';
import { AppSchedules } from '../../src/providers/local/schedules.js';
import { localPathsIn } from '../../src/providers/local/paths.js';
import { readTaskRecord, readTaskRecords, tasksDirIn, writeTaskRecord, type TaskRecord } from '../../src/state/task-records.js';
import { realClock, realSleep } from '../../src/sleep.js';
import { tempDir } from '../helpers/temp.js';
import { waitFor } from '../helpers/wait.js';

async function schedules(t: { teardown(fn: () => unknown): void }) {
  const paths = localPathsIn(tempDir(t, 'setopsd-run-records-'));
  await mkdir(paths.logsDir, { recursive: true });
  const s = new AppSchedules({ paths, processOf: () => ({ env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, cwd: paths.stageDir }), log: () => {}, deps: { clock: realClock, sleep: realSleep, env: {} } });
  t.teardown(() => s.stopAll());
  return { paths, s, dir: tasksDirIn(paths.stageDir) };
}

t.test('a run killed because its app went is recorded canceled', async (t) => {
  const { s, dir } = await schedules(t);
  await s.put('web', [{ name: 'long', cron: '* * * * * *', timeoutMs: 60_000, argv: ['/bin/sh', '-c', 'sleep 30'] }]);
  await waitFor('a run in progress', async () => (await readTaskRecords(dir)).some((r) => r.status === 'running'), { timeoutMs: 5_000 });
  await s.put('web', []);
  const [run] = await waitFor('the run recorded as ended', async () => {
    const all = await readTaskRecords(dir);
    return all.length > 0 && all.every((r) => r.status !== 'running') ? all : undefined;
  }, { timeoutMs: 5_000 });
  t.match(run, { startedBy: 'schedule long', status: 'failed', stopped: 'canceled', reason: 'stopped: its app was removed', signal: 'SIGKILL' });
});

t.test('records of runs an earlier supervisor did not see end are closed as canceled on restore', async (t) => {
  const { s, dir } = await schedules(t);
  const base: TaskRecord = { formatVersion: 1, id: '', app: 'web', command: ['x'], envKeys: [], startedBy: 'schedule nightly', status: 'running', exitCode: null, signal: null, startedAt: '2026-01-01T03:00:00.000Z', log: '' };
  await writeTaskRecord(dir, { ...base, id: '20260101T030000Z-left01' });
  await writeTaskRecord(dir, { ...base, id: '20260101T030000Z-oneoff', startedBy: 'cli ops@host' });
  await writeTaskRecord(dir, { ...base, id: '20260101T030000Z-done01', status: 'failed', exitCode: 3, endedAt: '2026-01-01T03:00:01.000Z' });
  await s.restore();
  t.match(await readTaskRecord(dir, '20260101T030000Z-left01'), { status: 'failed', stopped: 'canceled', reason: 'the stage supervisor stopped during the run', endedAt: String, durationMs: Number });
  t.match(await readTaskRecord(dir, '20260101T030000Z-oneoff'), { status: 'running' }, 'a one-off run is its command\'s to record');
  t.same(await readTaskRecord(dir, '20260101T030000Z-done01'), { ...base, id: '20260101T030000Z-done01', status: 'failed', exitCode: 3, endedAt: '2026-01-01T03:00:01.000Z' }, 'an ended run is left as it is');
});
