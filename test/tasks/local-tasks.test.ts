/**
 * One-off tasks on the real local engine, through the CLI: `task run` runs a command once in the
 * deployed app's environment (env with resolved secrets, link variables, workdir, --env
 * overrides), streams its output, exits with its exit code and is recorded (`task list`) without
 * secret values; SIGINT stops its whole process group; a failed run reaches the stage's
 * notifications; bad input names what exists and runs nothing.
 */
import t from 'tap';
import { chmod, readFile, realpath, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { realClock, realSleep } from '../../src/sleep.js';
import type { Deps } from '../../src/deps.js';
import { runCli } from '../helpers/deps.js';
import { killMentioning, processesMentioning, repoRoot } from '../e2e/helpers.js';
import { tempDir } from '../helpers/temp.js';
import { waitFor } from '../helpers/wait.js';
import { webhookReceiver } from '../helpers/receivers.js';

const SECRET = `task-canary-${process.pid}-q8`;
const dir = tempDir(t, 'setopsd-tasks-');
const stateDir = join(dir, '.setopsd');
await symlink(join(repoRoot, 'test/fixtures/local-apps'), join(dir, 'apps'));
const secretsFile = join(tempDir(t, 'setopsd-tasks-secrets-'), 'secrets.env');
await writeFile(secretsFile, `API_KEY=${SECRET}\n`);
await chmod(secretsFile, 0o600);
const hook = await webhookReceiver(t);

function run(argv: string[], over: Partial<Deps> = {}, signal?: AbortSignal) {
  return runCli(argv, { clock: realClock, sleep: realSleep, env: process.env, cwd: dir, ...over }, signal);
}

t.teardown(async () => {
  await run(['destroy', 'shop/staging', '--yes', '--allow-data-loss']).catch(() => undefined);
  await killMentioning(dir);
});

await writeFile(
  join(dir, 'setops.yaml'),
  [
    `apiVersion: setopsd/v1\nkind: Organization\nmetadata: { name: acme }\nspec: { provider: local, secrets: { file: ${secretsFile} } }`,
    'apiVersion: setopsd/v1\nkind: Project\nmetadata: { name: shop }',
    `apiVersion: setopsd/v1\nkind: Stage\nmetadata: { name: staging, project: shop }\nspec:\n  notifications: [ { webhook: "${hook.url}", events: [task.failed] } ]`,
    'apiVersion: setopsd/v1\nkind: Service\nmetadata: { name: uploads, project: shop }\nspec: { type: s3 }',
    [
      'apiVersion: setopsd/v1\nkind: App\nmetadata: { name: web, project: shop }\nspec:',
      '  command: [node, http-app.mjs]',
      '  workdir: apps',
      '  healthCheck: { path: /health, interval: 5, retries: 1, startPeriod: 0 }',
      '  env: { GREETING: hello-task, API_KEY: { secret: API_KEY } }',
      '  links: [ { service: uploads } ]',
    ].join('\n'),
    '',
  ].join('\n---\n'),
);
const applied = await run(['apply', '--yes']);
if (applied.code !== 0) throw new Error(`apply failed: ${applied.stdout}${applied.stderr}`);

const PRINT_ENV = 'const e = process.env; console.log(JSON.stringify({ greeting: e.GREETING, key: e.API_KEY === process.argv[1], bucket: e.S3_BUCKET, path: e.S3_PATH, extra: e.EXTRA, port: e.PORT ?? null, cwd: process.cwd() })); process.exit(Number(process.argv[2]))';

t.test('task run: the app\'s environment, its output, its exit code; recorded without secret values', async (t) => {
  const r = await run(['task', 'run', 'staging', 'web', '--env', 'EXTRA=from-cli', '--', 'node', '-e', PRINT_ENV, SECRET, '3']);
  t.equal(r.code, 3, 'the command\'s exit code');
  const seen = JSON.parse(r.stdout.trim());
  t.same(seen, { greeting: 'hello-task', key: true, bucket: 'uploads', path: join(stateDir, 'stages/acme/shop/staging/local/data/uploads'), extra: 'from-cli', port: null, cwd: await realpath(join(dir, 'apps')) });
  t.match(r.stderr, /task \S+ of app\/web in acme\/shop\/staging: exit code 3 after \d+\.\ds; log /);

  const list = await run(['task', 'list', 'staging', '--format', 'json']);
  const [rec] = JSON.parse(list.stdout).tasks;
  t.match(rec, { app: 'web', status: 'failed', exitCode: 3, envKeys: ['EXTRA'], startedBy: /^cli \S+@\S+$/, durationMs: Number });
  t.same(rec.command.slice(-2), ['(secret API_KEY)', '3'], 'the secret value passed as an argument is recorded by name');
  t.match(await readFile(rec.log, 'utf8'), /"greeting":"hello-task"/, 'the output is in the log file');
  const stored = await readFile(join(stateDir, 'stages/acme/shop/staging/tasks', `${rec.id}.json`), 'utf8');
  t.notOk(stored.includes(SECRET), 'the record holds no secret value');
  t.notOk(stored.includes('from-cli'), 'nor --env values');
  t.match((await run(['task', 'list', 'staging'])).stdout, /1 task run, newest first\n  \S+  app\/web  exit 3 /);

  t.equal(hook.posts.length, 1, 'the failed run was notified');
  const notice = JSON.parse(hook.posts[0]!.body);
  t.match(notice, { event: 'task.failed', data: { app: 'web', exitCode: 3 } });
  t.notOk(hook.posts[0]!.body.includes(SECRET));
});

t.test('a succeeding task exits 0 and sends nothing', async (t) => {
  const before = hook.posts.length;
  const r = await run(['task', 'run', 'staging', 'web', '--', 'node', '-e', PRINT_ENV, 'x', '0']);
  t.equal(r.code, 0);
  t.equal(hook.posts.length, before);
});

t.test('SIGINT stops the task and every process of its group', async (t) => {
  const marker = join(dir, 'task-started');
  const ac = new AbortController();
  // A shell whose child keeps running: both must go.
  const running = run(['task', 'run', 'staging', 'web', '--', 'sh', '-c', `sleep 300 & touch ${marker}; wait`], {}, ac.signal);
  await waitFor('the task started', () => existsSync(marker));
  ac.abort();
  const r = await running;
  t.equal(r.code, 128 + 15, 'killed by SIGTERM');
  t.match(r.stderr, /stopped, signal SIGTERM/);
  const left = [];
  for (const pid of await processesMentioning(dir)) {
    if ((await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '')).includes('SETOPSD_LOCAL_ROLE=task/')) left.push(pid);
  }
  t.same(left, [], 'no task process is left');
  const [rec] = JSON.parse((await run(['task', 'list', 'staging', '--format', 'json'])).stdout).tasks;
  t.match(rec, { status: 'failed', stopped: 'canceled', signal: 'SIGTERM' });
});

t.test('bad input says what exists and runs nothing', async (t) => {
  const noApp = await run(['task', 'run', 'staging', 'api', '--', 'true']);
  t.equal(noApp.code, 1);
  t.match(noApp.stderr, /stage acme\/shop\/staging has no app api; its apps: web/);
  const noCmd = await run(['task', 'run', 'staging', 'web']);
  t.equal(noCmd.code, 1);
  t.match(noCmd.stderr, /task run needs a command after --/);
  const badEnv = await run(['task', 'run', 'staging', 'web', '--env', '1X=2', '--', 'true']);
  t.match(badEnv.stderr, /--env 1X=2: must be KEY=VALUE/);
  const missing = await run(['task', 'run', 'staging', 'web', '--', 'no-such-program-xyz']);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /app\/web in acme\/shop\/staging: cannot start no-such-program-xyz: ENOENT/);
});
