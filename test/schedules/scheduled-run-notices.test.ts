/**
 * Failed scheduled runs on the real local engine reach the on-call engineer: the stage supervisor
 * records every run as a task record (`task list`: started by `schedule NAME`, exit code, stopped
 * timeout, the schedule's log), and the daemon's check (ScheduledRunNotices) sends one signed
 * `task.failed` webhook per failed run — none for a run that succeeded, none again after a
 * restart (a new instance on the same state directory), and no secret value in any of it. The
 * runs use croner's seconds field at one second a few seconds ahead, so each schedule runs once.
 */
import t from 'tap';
import { chmod, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { HTTP_APP, REF, noChanges, setup } from '../providers/local/helpers.js';
import { app, stage } from '../helpers/models.js';
import { localPaths } from '../../src/providers/local/paths.js';
import { findSupervisor } from '../../src/providers/local/launcher.js';
import { scheduleLogFile } from '../../src/providers/local/schedules.js';
import { ScheduledRunNotices } from '../../src/daemon/task-notices.js';
import { Notifier } from '../../src/providers/notify/notifier.js';
import { verifySignature } from '../../src/providers/notify/signature.js';
import { StateStore } from '../../src/state/store.js';
import { tasksDir } from '../../src/state/task-records.js';
import { realClock, realSleep } from '../../src/sleep.js';
import { runCli, testDeps } from '../helpers/deps.js';
import { tempDir } from '../helpers/temp.js';
import { webhookReceiver } from '../helpers/receivers.js';
import { waitFor } from '../helpers/wait.js';

const CANARY = `sched-canary-${process.pid}-z7`;
const HOOK_KEY = `hook-key-${process.pid}-k2`;

/** A croner pattern that fires once, `aheadMs` from now (seconds resolution). */
function onceAt(aheadMs: number): string {
  const at = new Date(Date.now() + aheadMs);
  return `${at.getSeconds()} ${at.getMinutes()} ${at.getHours()} ${at.getDate()} ${at.getMonth() + 1} *`;
}

t.test('local scheduled runs are recorded; a failed one is notified once, signed, without secrets', async (t) => {
  const { engine, io, stateDir } = await setup(t);
  const paths = localPaths(stateDir, REF);
  const secretsFile = join(tempDir(t, 'setopsd-sched-secrets-'), 'secrets.env');
  await writeFile(secretsFile, `API_KEY=${CANARY}\nHOOK_KEY=${HOOK_KEY}\n`);
  await chmod(secretsFile, 0o600);
  const hook = await webhookReceiver(t);
  const web = app({ ...HTTP_APP, env: { API_KEY: { secret: 'API_KEY' } } });
  const model = stage({
    name: 'dev',
    organization: { secrets: { file: secretsFile } },
    notifications: { ops: { type: 'webhook', target: hook.url, secret: { secret: 'HOOK_KEY' }, events: ['task.failed'] } },
    apps: { web },
  });
  const secrets = { get: async (name: string) => ({ API_KEY: CANARY, HOOK_KEY })[name] ?? Promise.reject(new Error(`no secret ${name}`)) };
  const applied = await engine.apply(model, noChanges(), io({ secrets }));
  t.equal(applied.status, 'succeeded', applied.error?.message ?? '');
  await new StateStore(stateDir).write(REF, model); // what `apply` records; the daemon reads it

  // Three schedules due at the same second: one fails (and prints the secret to its log), one
  // succeeds, one outlives its timeout.
  const cron = onceAt(2500);
  const client = (await findSupervisor(paths))!;
  await client.send('putSchedules', {
    params: { name: 'web' },
    body: {
      schedules: [
        { name: 'fails', cron, timeoutMs: 60_000, argv: ['/bin/sh', '-c', 'echo "key=$API_KEY"; exit 3'] },
        { name: 'works', cron, timeoutMs: 60_000, argv: ['/bin/sh', '-c', 'echo fine'] },
        { name: 'hangs', cron, timeoutMs: 500, argv: ['/bin/sh', '-c', 'sleep 30'] },
      ],
    },
  });
  const cli = (argv: string[]) => runCli(argv, { clock: realClock, sleep: realSleep, env: process.env });
  const list = async () => JSON.parse((await cli(['task', 'list', 'dev', '--state-dir', stateDir, '--format', 'json'])).stdout).tasks as Record<string, any>[];
  const tasks = await waitFor('three runs ended', async () => {
    const all = await list();
    return all.length === 3 && all.every((r) => r.status !== 'running') ? all : undefined;
  }, { timeoutMs: 15_000 });
  const by = Object.fromEntries(tasks.map((r) => [r.startedBy, r]));
  t.match(by['schedule fails'], { app: 'web', status: 'failed', exitCode: 3, signal: null, command: ['/bin/sh', '-c', 'echo "key=$API_KEY"; exit 3'], log: scheduleLogFile(paths, 'web', 'fails'), durationMs: Number, endedAt: String });
  t.notOk('stopped' in by['schedule fails']!);
  t.match(by['schedule works'], { status: 'succeeded', exitCode: 0 });
  t.match(by['schedule hangs'], { status: 'failed', stopped: 'timeout', reason: 'stopped after its timeout of 0.5 s', log: scheduleLogFile(paths, 'web', 'hangs') });
  t.match(await readFile(scheduleLogFile(paths, 'web', 'fails'), 'utf8'), `key=${CANARY}`, 'the run had the secret (its log holds its output)');
  const text = (await cli(['task', 'list', 'dev', '--state-dir', stateDir])).stdout;
  t.match(text, /3 task runs, newest first/);

  // The daemon's check: two failed runs, two notices; a second check and a "restarted" daemon send nothing more.
  const notifier = new Notifier({ log: pino({ level: 'silent' }), sleep: async () => {} });
  const deps = testDeps({ clock: realClock, sleep: realSleep, env: process.env });
  const notices = () => new ScheduledRunNotices({ deps, stateDir, notifier, configRoot: () => stateDir, owns: () => true });
  const first = notices();
  t.equal(await first.check(new AbortController().signal), 2);
  await notifier.drain();
  t.equal(hook.posts.length, 2, 'one webhook per failed run, none for the run that succeeded');
  t.equal(await first.check(new AbortController().signal), 0);
  t.equal(await notices().check(new AbortController().signal), 0, 'a restarted daemon does not notify again');
  await notifier.drain();
  t.equal(hook.posts.length, 2);

  const bodies = hook.posts.map((p) => JSON.parse(p.body));
  for (const p of hook.posts) t.ok(verifySignature(HOOK_KEY, p.body, p.headers['x-setopsd-signature-256'] as string), 'signed with the stage\'s key');
  const failed = bodies.find((b) => b.data.schedule === 'fails');
  t.match(failed, { event: 'task.failed', stage: 'acme/shop/dev', data: { app: 'web', schedule: 'fails', task: by['schedule fails']!.id, exitCode: 3, log: scheduleLogFile(paths, 'web', 'fails') } });
  t.match(failed.title, /scheduled task fails .* of app web failed \(exit code 3\)/);
  const timedOut = bodies.find((b) => b.data.schedule === 'hangs');
  t.match(timedOut, { data: { stopped: 'timeout', reason: 'stopped after its timeout of 0.5 s' } });
  t.match(timedOut.title, /timed out/);
  t.match((await list()).find((r) => r.startedBy === 'schedule fails'), { notifiedAt: String });

  const everything = [...hook.posts.map((p) => p.body), text, JSON.stringify(await list()), ...(await Promise.all((await readdir(tasksDir(stateDir, REF))).map((n) => readFile(join(tasksDir(stateDir, REF), n), 'utf8'))))].join('\n');
  t.notOk(everything.includes(CANARY), 'no secret value in notices, records or task list');
  t.notOk(everything.includes(HOOK_KEY), 'nor the signing key');
});
