/**
 * A daemon following a stage on the real local engine (in this process: real git repository,
 * queue, HTTP on 127.0.0.1, the local engine and its stage supervisor) delivers one signed
 * `task.failed` webhook for a scheduled run that exits 3, none for one that succeeds, and none
 * again after it is restarted on the same state directory. The runs are put to the supervisor
 * with a seconds-resolution cron that fires once (manifests allow five fields: a minute).
 */
import t from 'tap';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { daemonFor } from './helpers.js';
import { findSupervisor } from '../../src/providers/local/launcher.js';
import { localPaths } from '../../src/providers/local/paths.js';
import { verifySignature } from '../../src/providers/notify/signature.js';
import { listTasks } from '../../src/operations/tasks.js';
import { killMentioning } from '../e2e/helpers.js';
import { FIXTURES } from '../providers/local/helpers.js';
import { webhookReceiver } from '../helpers/receivers.js';
import { tempDir } from '../helpers/temp.js';
import { waitFor } from '../helpers/wait.js';

const REF = { organization: 'acme', project: 'shop', stage: 'dev' };
const HOOK_KEY = `hook-key-${process.pid}-d4`;

function onceAt(aheadMs: number): string {
  const at = new Date(Date.now() + aheadMs);
  return `${at.getSeconds()} ${at.getMinutes()} ${at.getHours()} ${at.getDate()} ${at.getMonth() + 1} *`;
}

t.test('a daemon following a local stage notifies a failed scheduled run once, also across a restart', async (t) => {
  const hook = await webhookReceiver(t);
  const secretsFile = join(tempDir(t, 'setopsd-daemon-runs-secrets-'), 'secrets.env');
  await writeFile(secretsFile, `HOOK_KEY=${HOOK_KEY}\n`);
  await chmod(secretsFile, 0o600);
  const files = {
    'config/setops.yaml': `apiVersion: setopsd/v1
kind: Organization
metadata: { name: acme }
spec: { provider: local, secrets: { file: ${JSON.stringify(secretsFile)} } }
---
apiVersion: setopsd/v1
kind: Project
metadata: { name: shop, organization: acme }
---
apiVersion: setopsd/v1
kind: Stage
metadata: { name: dev, organization: acme, project: shop }
spec: { notifications: [ { webhook: "${hook.url}", secret: { secret: HOOK_KEY }, events: [task.failed] } ] }
---
apiVersion: setopsd/v1
kind: App
metadata: { name: web, organization: acme, project: shop }
spec:
  command: [node, ${JSON.stringify(join(FIXTURES, 'http-app.mjs'))}]
  healthCheck: { path: /health, interval: 5, retries: 1, startPeriod: 0 }
`,
  };
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  const env = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => v !== undefined && k !== 'SETOPSD_ROUTER_PORT')) as Record<string, string>;
  const opts = { env, log, daemon: { engineFactory: undefined, taskCheckIntervalMs: 100 } };
  const first = await daemonFor(t, files, opts);
  t.teardown(() => killMentioning(first.stateDir));
  await waitFor('dev applied', async () => (await first.record('dev'))?.state === 'ready', { timeoutMs: 30_000 });

  const client = (await findSupervisor(localPaths(first.stateDir, REF)))!;
  const cron = onceAt(2000);
  await client.send('putSchedules', {
    params: { name: 'web' },
    body: { schedules: [{ name: 'fails', cron, timeoutMs: 60_000, argv: ['/bin/sh', '-c', 'exit 3'] }, { name: 'works', cron, timeoutMs: 60_000, argv: ['/bin/sh', '-c', 'true'] }] },
  });
  await waitFor('the failed run notified', () => hook.posts.length >= 1, { timeoutMs: 15_000 });
  const runs = await waitFor('both runs ended', async () => {
    const all = await listTasks(first.stateDir, REF);
    return all.length === 2 && all.every((r) => r.status !== 'running') ? all : undefined;
  });
  await first.stop();

  const checked = () => lines.filter((l) => l.includes('scheduled runs checked')).length;
  const before = checked();
  await daemonFor(t, files, { ...opts, stateDir: first.stateDir });
  await waitFor('the restarted daemon checked twice', () => checked() >= before + 2);

  t.equal(hook.posts.length, 1, 'one webhook: the failed run, once; none for the run that succeeded');
  const post = hook.posts[0]!;
  t.ok(verifySignature(HOOK_KEY, post.body, post.headers['x-setopsd-signature-256'] as string), 'signed with the stage\'s key');
  const failed = runs.find((r) => r.startedBy === 'schedule fails')!;
  t.match(JSON.parse(post.body), { event: 'task.failed', stage: 'acme/shop/dev', data: { app: 'web', schedule: 'fails', task: failed.id, exitCode: 3, log: failed.log } });
  t.match(runs.find((r) => r.startedBy === 'schedule works'), { status: 'succeeded', exitCode: 0 });
  t.notOk(post.body.includes(HOOK_KEY), 'the signing key is not in the body');
});
