/**
 * `setopsd apply` through the CLI (in-process `main`, real clock) with the real local engine and
 * small fixture apps: several stages with `after:`, partial failure, secrets, manual approval,
 * confirmation, plan files, locks and cancellation. The example stage end to end is in test/e2e/.
 */
import t from 'tap';
import { chmod, readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { realClock, realSleep } from '../../src/sleep.js';
import { acquireStageLock } from '../../src/state/lock.js';
import type { Deps } from '../../src/deps.js';
import { runCli, testDeps } from '../helpers/deps.js';
import { killMentioning, processesMentioning, repoRoot } from '../e2e/helpers.js';
import { tempDir } from '../helpers/temp.js';
import { waitFor } from '../helpers/wait.js';
import { get } from '../helpers/http.js';

const dir = tempDir(t, 'setopsd-cli-apply-');
const stateDir = join(dir, '.setopsd');
await symlink(join(repoRoot, 'test/fixtures/local-apps'), join(dir, 'apps'));

function run(argv: string[], over: Partial<Deps> = {}, signal = new AbortController().signal) {
  return runCli(argv, { clock: realClock, sleep: realSleep, env: process.env, cwd: dir, ...over }, signal);
}

t.teardown(async () => {
  for (const stage of ['staging', 'production', 'preview']) await run(['destroy', `shop/${stage}`, '--yes', '--allow-data-loss']).catch(() => undefined);
  await killMentioning(dir);
});

interface Opts {
  /** Per stage: the web app's VERSION and whether its pre-deploy step fails. */
  stages: Record<string, { version: string; failPreDeploy?: boolean; after?: string; approval?: 'auto' | 'manual'; secret?: boolean; unhealthy?: boolean }>;
  secretsFile?: string;
}

/** Writes manifests: org acme (local), project shop, the given stages, one public app `web` per stage. */
async function manifests(o: Opts): Promise<void> {
  const docs: string[] = [
    `apiVersion: setopsd/v1\nkind: Organization\nmetadata: { name: acme }\nspec:\n  provider: local\n${o.secretsFile ? `  secrets: { file: ${o.secretsFile} }\n` : ''}`,
    'apiVersion: setopsd/v1\nkind: Project\nmetadata: { name: shop }\nspec: {}\n',
  ];
  for (const [name, s] of Object.entries(o.stages)) {
    docs.push(
      `apiVersion: setopsd/v1\nkind: Stage\nmetadata: { name: ${name}, project: shop }\nspec:\n  approval: ${s.approval ?? 'auto'}\n${s.after ? `  after: ${s.after}\n` : ''}`,
      [
        'apiVersion: setopsd/v1',
        'kind: App',
        `metadata: { name: web, project: shop, stage: ${name} }`,
        'spec:',
        '  command: [node, http-app.mjs]',
        '  workdir: apps',
        '  public: true',
        '  healthCheck: { path: /health, interval: 5, retries: 1, startPeriod: 0 }',
        '  env:',
        `    VERSION: ${s.version}`,
        ...(s.secret ? ['    API_KEY: { secret: api-key }'] : []),
        ...(s.unhealthy ? ['    UNHEALTHY: "1"'] : []),
        ...(s.failPreDeploy ? ['  preDeploy: { command: "echo migrating; exit 3" }'] : []),
        '',
      ].join('\n'),
    );
  }
  await writeFile(join(dir, 'setops.yaml'), docs.join('---\n'));
}

async function journal(stage: string): Promise<{ number: number; status: string; trigger: string; error?: { code: string; message: string } }[]> {
  const jdir = join(stateDir, 'stages/acme/shop', stage, 'journal');
  const names = (await readdir(jdir).catch(() => [] as string[])).filter((n) => /^\d+\.json$/.test(n)).sort();
  return Promise.all(names.map(async (n) => JSON.parse(await readFile(join(jdir, n), 'utf8'))));
}

t.test('stages apply in parallel; a failed stage is named, its after: successor skipped, the others still apply', async (t) => {
  await manifests({
    stages: {
      staging: { version: 'v1', failPreDeploy: true },
      production: { version: 'v1', after: 'staging' },
      preview: { version: 'v1' },
    },
  });
  const r = await run(['apply', '--yes']);
  t.equal(r.code, 1, r.stderr);
  t.match(r.stdout, /acme\/shop\/staging:   app\/web failed: app\/web in acme\/shop\/staging: the pre-deploy command exited with code 3.*\n(?:.*\n)*?acme\/shop\/staging: deployment #1 failed in \S+ \(E_PREDEPLOY, above\): nothing was deployed before, so everything this apply started was stopped\n/);
  t.match(r.stdout, /acme\/shop\/production: skipped: it runs after acme\/shop\/staging, which failed/);
  t.match(r.stdout, /acme\/shop\/preview: deployment #1 succeeded/);
  t.match(r.stdout, /apply: 1 succeeded, 0 unchanged, 1 failed \(acme\/shop\/staging\), 1 skipped \(acme\/shop\/production\)\n$/);
  t.same((await journal('staging')).map((e) => e.status), ['failed']);
  t.same(await journal('production'), [], 'the skipped stage has no journal entry');

  await manifests({ stages: { staging: { version: 'v1' }, production: { version: 'v1', after: 'staging' }, preview: { version: 'v1' } } });
  const again = await run(['apply', '--yes']);
  t.equal(again.code, 0, again.stdout + again.stderr);
  t.match(again.stdout, /acme\/shop\/preview: no changes/);
  const order = [...again.stdout.matchAll(/acme\/shop\/(\w+): deployment #\d+ succeeded/g)].map((m) => m[1]);
  t.same(order, ['staging', 'production'], 'production only after staging succeeded');
  t.same((await journal('staging')).map((e) => e.status), ['failed', 'succeeded']);
});

t.test('a missing secret refuses the stage before anything changes; a 0600 secrets file provides it and its value is never shown', async (t) => {
  const secrets = join(dir, 'secrets.env');
  await writeFile(secrets, 'other=1\n', { mode: 0o600 });
  await chmod(secrets, 0o600);
  await manifests({ stages: { staging: { version: 'v2', secret: true }, production: { version: 'v1', after: 'staging' }, preview: { version: 'v1' } } });
  const before = await journal('staging');
  const r = await run(['apply', '--yes', '--stage', 'staging', '--secrets', secrets]);
  t.equal(r.code, 1);
  t.match(r.stdout, /acme\/shop\/staging: not applied: stage acme\/shop\/staging: missing secrets, nothing was changed: app\/web env API_KEY needs secret "api-key"/);
  t.same(await journal('staging'), before, 'no journal entry');

  await writeFile(secrets, 'other=1\napi-key=sup3r-s3cret-value\n', { mode: 0o600 });
  const ok = await run(['apply', '--yes', '--stage', 'staging', '--secrets', secrets]);
  t.equal(ok.code, 0, ok.stdout + ok.stderr);
  const all = ok.stdout + ok.stderr + JSON.stringify(await journal('staging'));
  t.notMatch(all, /sup3r-s3cret-value/, 'the value is not printed or journaled');
  t.match(ok.stdout, /\(secret api-key\)/, 'the plan shows the secret by name');

  // Every file the stage wrote (state, journal, deployment and process logs, supervisor log)
  // is free of the value, except the local engine's runtime copy that lets a restarted
  // supervisor bring the app back: owner-only, like the secrets file itself.
  const runtimeSecretStores = new Set(['local/desired.json']);
  const stageRoot = join(stateDir, 'stages/acme/shop/staging');
  const holders: string[] = [];
  const scanned: string[] = [];
  for (const entry of await readdir(stageRoot, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const rel = path.slice(stageRoot.length + 1);
    if (rel.startsWith('local/postgres/') || rel.startsWith('local/redis/') || rel.startsWith('local/data/')) continue;
    scanned.push(rel);
    if ((await readFile(path)).includes('sup3r-s3cret-value')) holders.push(rel);
  }
  t.ok(scanned.includes('state.json') && scanned.some((f) => f.startsWith('journal/')) && scanned.some((f) => f.startsWith('logs/web.')), 'state, journal and app logs were scanned');
  t.same(holders.filter((h) => !runtimeSecretStores.has(h)), [], 'no log, journal or state file holds the value');
  for (const store of holders) t.equal((await stat(join(stageRoot, store))).mode & 0o777, 0o600, `${store} is owner-only`);
});

t.test('confirmation: a terminal prompt, and a plan file without a terminal only applies auto-approval stages', async (t) => {
  await manifests({ stages: { staging: { version: 'v3', secret: false }, production: { version: 'v3', approval: 'manual' }, preview: { version: 'v1' } } });
  const tty = (answer: string) => ({ isTTY: { stdout: false, stdin: true }, prompt: async (q: string) => { asked.push(q); return answer; } });
  const asked: string[] = [];
  const before = (await journal('staging')).length;
  const no = await run(['apply', '--stage', 'staging'], tty('no'));
  t.equal(no.code, 1);
  t.match(asked[0], /^Apply 2 changes to acme\/shop\/staging\? Type "yes" to confirm: $/);
  t.match(no.stdout, /apply: canceled, nothing changed/);
  t.equal((await journal('staging')).length, before, 'nothing applied');

  const planFile = join(dir, 'reviewed.json');
  const planned = await run(['plan', '--detailed-exitcode', '--out', planFile]);
  t.equal(planned.code, 2, planned.stderr);
  const fromFile = await run(['apply', planFile]);
  t.equal(fromFile.code, 1, fromFile.stderr);
  t.match(fromFile.stdout, /acme\/shop\/production: skipped: approval: manual; confirm on a terminal or pass --yes/);
  t.match(fromFile.stdout, new RegExp(`acme/shop/staging: deployment #${before + 1} succeeded`));
  const last = (await journal('staging')).at(-1)!;
  t.equal(last.trigger, 'plan-file');

  const yes = await run(['apply', '--stage', 'production'], tty('yes'));
  t.equal(yes.code, 0, yes.stdout + yes.stderr);
  t.match(yes.stdout, /acme\/shop\/production: deployment #\d+ succeeded/);
});

t.test('a file that is not a plan is a usage error; so is a missing --yes without a terminal', async (t) => {
  await writeFile(join(dir, 'notes.txt'), 'hello\n');
  const r = await run(['apply', 'notes.txt']);
  t.equal(r.code, 1);
  t.match(r.stderr, /notes\.txt is a file but not a setopsd plan file/);
  await manifests({ stages: { staging: { version: 'v4' }, production: { version: 'v3', approval: 'manual' }, preview: { version: 'v1' } } });
  const noYes = await run(['apply', '--stage', 'staging']);
  t.equal(noYes.code, 1);
  t.match(noYes.stderr, /apply needs --yes/);
});

t.test('a locked stage is refused naming the holder; other stages still apply', async (t) => {
  await manifests({ stages: { staging: { version: 'v5' }, production: { version: 'v3', approval: 'manual' }, preview: { version: 'v2' } } });
  const lock = await acquireStageLock(stateDir, { organization: 'acme', project: 'shop', stage: 'staging' }, testDeps(), { command: 'daemon', timeoutMs: 0 });
  t.teardown(() => lock.release());
  const r = await run(['apply', '--yes', '--stage', 'staging', '--stage', 'preview']);
  t.equal(r.code, 1);
  t.match(r.stdout, new RegExp(`acme/shop/staging: not applied: stage acme/shop/staging is locked by PID ${process.pid} on .* \\(daemon\\)`));
  t.match(r.stdout, /acme\/shop\/preview: deployment #\d+ succeeded/);
  await lock.release();
});

t.test('logs prints recent lines of an app and follows until interrupted', async (t) => {
  const r = await run(['logs', '--stage', 'preview', '--app', 'web', '--lines', '5']);
  t.equal(r.code, 0, r.stderr);
  t.ok(r.stdout.trim().split('\n').length <= 5 * 2, 'at most N lines per process');
  const unknown = await run(['logs', '--stage', 'preview', '--app', 'nope']);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /app\/nope is not in stage acme\/shop\/preview; apps: web/);

  const ac = new AbortController();
  let seen = '';
  const following = run(['logs', '--stage', 'preview', '--app', 'web', '--follow', '--lines', '1'], {
    stdout: { write: (s: string) => { seen += s; if (seen.length > 0) ac.abort(new Error('SIGINT')); } },
  }, ac.signal);
  const f = await following;
  t.equal(f.code, 0, 'Ctrl-C ends --follow normally');
  t.ok(seen.length > 0, 'printed the last line before following');
});

t.test('cancel during apply: the deployment is journaled failed and the stage unlocked', async (t) => {
  await manifests({ stages: { staging: { version: 'v6', failPreDeploy: false }, production: { version: 'v3', approval: 'manual' }, preview: { version: 'v2' } } });
  const ac = new AbortController();
  const before = (await journal('staging')).length;
  const running = run(['apply', '--yes', '--stage', 'staging'], {}, ac.signal);
  await waitFor('the deployment to be running', async () => (await journal('staging')).length > before && (await journal('staging')).at(-1)!.status === 'running', { timeoutMs: 30_000, intervalMs: 5 });
  ac.abort(new Error('SIGINT'));
  const r = await running;
  t.equal(r.code, 1);
  const last = (await journal('staging')).at(-1)!;
  t.equal(last.status, 'failed');
  t.equal(last.error?.code, 'E_CANCELED');
  const { readStageLock } = await import('../../src/state/lock.js');
  t.equal(await readStageLock(stateDir, { organization: 'acme', project: 'shop', stage: 'staging' }), null, 'unlocked');
  const after = await run(['apply', '--yes', '--stage', 'staging']);
  t.equal(after.code, 0, 'the next apply converges');
  t.ok((await processesMentioning(dir)).length > 0);
});

t.test('a new version that never becomes healthy fails the deployment; the old version keeps serving', async (t) => {
  await manifests({ stages: { staging: { version: 'v7', unhealthy: true }, production: { version: 'v3', approval: 'manual' }, preview: { version: 'v2' } } });
  const r = await run(['apply', '--yes', '--stage', 'staging']);
  t.equal(r.code, 1);
  t.match(r.stdout, /acme\/shop\/staging:   app\/web failed: app\/web .*healthy.*\nacme\/shop\/staging: deployment #\d+ failed in \S+ \(E_UNHEALTHY, above\)\n/);
  t.match(r.stdout, /deployment log: .*deploy-\d+\.log/);
  const last = (await journal('staging')).at(-1)!;
  t.equal(last.status, 'failed');
  const status = JSON.parse((await run(['status', '--stage', 'staging', '--format', 'json'])).stdout).stages[0];
  const res = await get(status.runtime.router.port, '/', { host: 'web.staging.shop.localhost' });
  t.equal(res.status, 200);
  t.match(res.body, /"version":"v6"/, 'the previous version still answers');
  const plan = await run(['plan', '--detailed-exitcode', '--stage', 'staging']);
  t.equal(plan.code, 2, 'the change is still pending');
});

t.test('a stage removed from the manifests is destroyed by apply and journaled as a destroy', async (t) => {
  await manifests({ stages: { staging: { version: 'v6' }, production: { version: 'v3', approval: 'manual' } } });
  const r = await run(['apply', '--yes']);
  t.equal(r.code, 0, r.stdout + r.stderr);
  t.match(r.stdout, /- stage/);
  t.match(r.stdout, /acme\/shop\/preview: deployment #\d+ succeeded/);
  const last = (await journal('preview')).at(-1)! as unknown as { kind: string; status: string };
  t.match(last, { kind: 'destroy', status: 'succeeded' });
  const status = await run(['status', '--stage', 'preview', '--format', 'json']);
  t.equal(JSON.parse(status.stdout).stages[0].serial, null, 'recorded as gone');
  const again = await run(['plan']);
  t.equal(again.code, 0, 'nothing left to do');
});
