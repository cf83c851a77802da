/**
 * The daemon notifies failed scheduled runs on its own interval (a real daemon in this process:
 * git repository, sources, queue, HTTP on 127.0.0.1; a fake engine, with the stage's recorded
 * model and task records written as the local engine and its supervisor write them): each failed
 * run of a schedule once, even across a restart on the same state directory; never one-off runs
 * (`task run` notified those), runs that succeeded, runs the supervisor canceled, or runs that
 * ended more than an hour before the daemon started. A burst of failures is sent ten per stage
 * and check.
 */
import t from 'tap';
import { daemonFor, manifests } from './helpers.js';
import { readTaskRecord, tasksDir, writeTaskRecord, type TaskRecord } from '../../src/state/task-records.js';
import { StateStore } from '../../src/state/store.js';
import { app, stage } from '../helpers/models.js';
import { pino } from 'pino';
import { ScheduledRunNotices } from '../../src/daemon/task-notices.js';
import { Notifier } from '../../src/providers/notify/notifier.js';
import { realClock, realSleep } from '../../src/sleep.js';
import { testDeps } from '../helpers/deps.js';
import { tempDir } from '../helpers/temp.js';
import { webhookReceiver } from '../helpers/receivers.js';
import { waitFor } from '../helpers/wait.js';

const REF = { organization: 'acme', project: 'shop', stage: 'staging' };

function run(id: string, over: Partial<TaskRecord> & { endedMsAgo?: number } = {}): TaskRecord {
  const { endedMsAgo = 0, ...rest } = over;
  const ended = Date.now() - endedMsAgo;
  return { formatVersion: 1, id, app: 'web', command: ['/bin/sh', '-c', 'bin/cleanup'], envKeys: [], startedBy: 'schedule nightly', status: 'failed', exitCode: 2, signal: null, startedAt: new Date(ended - 1000).toISOString(), endedAt: new Date(ended).toISOString(), durationMs: 1000, log: '/var/log/web.schedule.nightly.log', ...rest };
}

t.test('failed scheduled runs: notified once each, across a restart; one-off, succeeded and old runs are not', async (t) => {
  const hook = await webhookReceiver(t);
  const files = manifests({ greeting: 'hi' });
  files['config/setops.yaml'] = files['config/setops.yaml']!.replace(
    'metadata: { name: staging, organization: acme, project: shop }\n',
    `metadata: { name: staging, organization: acme, project: shop }\nspec: { notifications: [ { webhook: "${hook.url}", events: [task.failed] } ] }\n`,
  );
  const first = await daemonFor(t, files, { daemon: { taskCheckIntervalMs: 50 } });
  await waitFor('staging applied', async () => (await first.record('staging'))?.state === 'ready');
  // What a real engine records after the apply (the fake one keeps it to itself); the daemon reads it.
  await new StateStore(first.stateDir).write(REF, stage({ notifications: { ops: { type: 'webhook', target: hook.url, events: ['task.failed'] } }, apps: { web: app() } }));
  const dir = tasksDir(first.stateDir, REF);
  await writeTaskRecord(dir, run('20260101T030000Z-aaaaaa'));
  await writeTaskRecord(dir, run('20260101T030001Z-oneoff', { startedBy: 'cli ops@host' }));
  await writeTaskRecord(dir, run('20260101T030002Z-fine01', { status: 'succeeded', exitCode: 0 }));
  await writeTaskRecord(dir, run('20260101T030003Z-old001', { endedMsAgo: 2 * 3_600_000 }));
  await writeTaskRecord(dir, run('20260101T030004Z-cancel', { exitCode: null, signal: 'SIGKILL', stopped: 'canceled', reason: 'stopped: its app was removed' }));
  await waitFor('the failed scheduled run notified', () => hook.posts.length >= 1);
  // A run that fails later is notified by a later check: the first one is not sent again meanwhile.
  await writeTaskRecord(dir, run('20260101T040000Z-bbbbbb', { exitCode: null, stopped: 'timeout', signal: 'SIGTERM', reason: 'stopped after its timeout of 600 s' }));
  await waitFor('the second failed run notified', () => hook.posts.length >= 2);
  await first.stop();

  const second = await daemonFor(t, files, { stateDir: first.stateDir, daemon: { taskCheckIntervalMs: 50 } });
  await writeTaskRecord(dir, run('20260101T050000Z-cccccc'));
  await waitFor('a run failed after the restart notified', () => hook.posts.length >= 3);
  await second.stop();

  const notices = hook.posts.map((p) => JSON.parse(p.body));
  t.same(notices.map((n) => n.data.task), ['20260101T030000Z-aaaaaa', '20260101T040000Z-bbbbbb', '20260101T050000Z-cccccc'], 'each failed scheduled run once; none before the restart again');
  t.match(notices[0], { event: 'task.failed', stage: 'acme/shop/staging', data: { schedule: 'nightly', exitCode: 2, log: '/var/log/web.schedule.nightly.log' } });
  t.match(notices[1], { data: { stopped: 'timeout', reason: 'stopped after its timeout of 600 s' } });
  t.match(notices[1].text, /Reason: stopped after its timeout of 600 s\nLog: \/var\/log\/web\.schedule\.nightly\.log/);
  t.match(await readTaskRecord(dir, '20260101T030000Z-aaaaaa'), { notifiedAt: String, status: 'failed' });
  for (const id of ['20260101T030001Z-oneoff', '20260101T030002Z-fine01', '20260101T030003Z-old001', '20260101T030004Z-cancel']) t.notOk((await readTaskRecord(dir, id))?.notifiedAt, `${id} is not marked notified`);
});

t.test('a burst of failed runs: ten notices per stage and check, the rest with the next check', async (t) => {
  const hook = await webhookReceiver(t);
  const stateDir = tempDir(t, 'setopsd-run-notices-');
  await new StateStore(stateDir).write(REF, stage({ notifications: { ops: { type: 'webhook', target: hook.url } }, apps: { web: app() } }));
  const dir = tasksDir(stateDir, REF);
  for (let i = 0; i < 12; i++) await writeTaskRecord(dir, run(`20260101T03${String(i).padStart(2, '0')}00Z-burst${i}`));
  const notifier = new Notifier({ log: pino({ level: 'silent' }), sleep: async () => {} });
  const notices = new ScheduledRunNotices({ deps: testDeps({ clock: realClock, sleep: realSleep }), stateDir, notifier, configRoot: () => stateDir, owns: () => true });
  const signal = new AbortController().signal;
  const ids = Array.from({ length: 12 }, (_, i) => `20260101T03${String(i).padStart(2, '0')}00Z-burst${i}`);
  const sent = async () => {
    await notifier.drain();
    return hook.posts.map((p) => JSON.parse(p.body).data.task as string).sort();
  };
  t.equal(await notices.check(signal), 10);
  t.same(await sent(), ids.slice(0, 10), 'the oldest ten first');
  t.equal(await notices.check(signal), 2);
  t.same(await sent(), ids, 'then the rest, each once');
  t.equal(await notices.check(signal), 0);
});
