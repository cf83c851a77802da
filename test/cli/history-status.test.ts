import t from 'tap';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/deps.js';
import { Journal } from '../../src/state/journal.js';
import { StateStore } from '../../src/state/store.js';
import { tempDir } from '../helpers/temp.js';
import { app, stage } from '../helpers/models.js';

const here = dirname(fileURLToPath(import.meta.url));
const ref = { organization: 'acme', project: 'shop', stage: 'staging' };

/** Compares with a golden file; `UPDATE_GOLDEN=1` rewrites it (review the diff). */
async function golden(t: Tap, name: string, actual: string): Promise<void> {
  const file = join(here, 'golden', name);
  if (process.env.UPDATE_GOLDEN === '1') {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, actual);
  }
  t.equal(actual, await readFile(file, 'utf8'), `matches golden ${name}`);
}
type Tap = Pick<typeof t, "equal">;

async function seeded(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const stateDir = tempDir(t, 'setopsd-history-');
  await new StateStore(stateDir).write(ref, stage({ name: 'staging', apps: { web: app({ public: true, scale: 2 }) } }));
  let now = Date.parse('2026-01-01T10:00:00Z');
  const journal = new Journal(stateDir, ref, () => now);
  const changeset = { ref, changes: [{ op: 'create' as const, subject: 'app/web', dataLoss: false, command: 'setops app:create web' }] };
  const summary = { create: 1, update: 0, replace: 0, delete: 0 };
  const one = await journal.start(await journal.open({ kind: 'apply', commit: '0123456789abcdef0123', ref: 'main', trigger: 'cli', changeset, desiredHash: 'sha256:aa', summary }));
  now += 4200;
  await journal.finish(one, { status: 'succeeded', applied: ['app/web', 'stage'] });
  now += 60_000;
  const two = await journal.start(await journal.open({ kind: 'apply', commit: 'fedcba9876543210fedc', ref: 'main', trigger: 'plan-file', changeset, desiredHash: 'sha256:bb', summary: { ...summary, create: 0, update: 2 } }));
  now += 1500;
  await journal.finish(two, { status: 'failed', applied: [], error: { code: 'E_ENGINE', message: 'app/web in shop/staging: new process never became healthy; the old ones keep serving' } });
  return stateDir;
}

t.test('history lists deployments newest first, text and json', async (t) => {
  const stateDir = await seeded(t);
  const text = await runCli(['history', 'staging', '--state-dir', stateDir]);
  t.equal(text.code, 0, text.stderr);
  await golden(t, 'history.txt', text.stdout);
  const json = await runCli(['history', 'shop/staging', '--state-dir', stateDir, '--format', 'json']);
  t.equal(json.code, 0);
  await golden(t, 'history.json', json.stdout);
  const parsed = JSON.parse(json.stdout);
  t.same(parsed.deployments.map((d: { number: number }) => d.number), [2, 1]);
});

t.test('history: unknown or ambiguous stage is a usage error naming the known stages', async (t) => {
  const stateDir = await seeded(t);
  const r = await runCli(['history', 'prod', '--state-dir', stateDir]);
  t.equal(r.code, 1);
  t.match(r.stderr, /--stage prod: no such stage; known stages: acme\/shop\/staging/);
  const none = await runCli(['history', '--state-dir', stateDir]);
  t.equal(none.code, 1);
  t.match(none.stderr, /history needs a STAGE/);
});

t.test('status shows last deployment, apps and services per stage; json is stable', async (t) => {
  const stateDir = await seeded(t);
  const r = await runCli(['status', '--state-dir', stateDir]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^acme\/shop\/staging \(local engine\)\n/);
  t.match(r.stdout, /last deployment  #2 apply failed, commit fedcba987654, 2026-01-01T10:01:05\.700Z — app\/web in shop\/staging: new process never became healthy/);
  t.match(r.stdout, /app web /);
  const json = await runCli(['status', '--stage', 'staging', '--format', 'json', '--state-dir', stateDir]);
  t.equal(json.code, 0);
  const parsed = JSON.parse(json.stdout);
  t.equal(parsed.stages.length, 1);
  t.match(parsed.stages[0], { stage: 'acme/shop/staging', engine: 'local', serial: '1', lastDeployment: { number: 2, status: 'failed' }, apps: { web: { scale: 2, public: true } }, lock: null });
});

t.test('status of an empty state directory says so', async (t) => {
  const stateDir = tempDir(t, 'setopsd-status-');
  const r = await runCli(['status', '--state-dir', stateDir]);
  t.equal(r.code, 0);
  t.equal(r.stdout, 'no deployed stages in this state directory\n');
});

t.test('status and history take --format text or json only', async (t) => {
  const stateDir = await seeded(t);
  for (const argv of [['status'], ['history', 'staging']]) {
    const r = await runCli([...argv, '--format', 'yaml', '--state-dir', stateDir]);
    t.equal(r.code, 1, argv[0]);
    t.match(r.stderr, /^error: --format must be text or json, got "yaml"/, argv[0]);
  }
});
