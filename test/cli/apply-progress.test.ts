/**
 * What `setopsd apply` prints while it works: what changes, by name; a failure once; a closing
 * summary on every run. Real local engine, the fixture HTTP app, a real pino logger at the CLI's
 * default level writing to the captured stderr.
 */
import t from 'tap';
import { symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { realClock, realSleep } from '../../src/sleep.js';
import { applyProgressPrinter } from '../../src/render/progress.js';
import type { ApplyEvent } from '../../src/operations/apply-stage.js';
import type { Deployment } from '../../src/state/journal.js';
import { runCli } from '../helpers/deps.js';
import { killMentioning, repoRoot } from '../e2e/helpers.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir(t, 'setopsd-cli-progress-');
await symlink(join(repoRoot, 'test/fixtures/local-apps'), join(dir, 'apps'));

async function run(argv: string[]) {
  let logged = '';
  const log = pino({ level: 'warn', base: undefined }, { write: (s: string) => void (logged += s) });
  const r = await runCli(argv, { clock: realClock, sleep: realSleep, env: { ...process.env, SETOPSD_LOG_LEVEL: undefined }, cwd: dir, log });
  return { ...r, stderr: r.stderr + logged };
}

t.teardown(async () => {
  await run(['destroy', 'shop/staging', '--yes', '--allow-data-loss']).catch(() => undefined);
  await killMentioning(dir);
});

const manifests = (env: string) =>
  writeFile(
    join(dir, 'setops.yaml'),
    `apiVersion: setopsd/v1
kind: Organization
metadata: { name: acme }
spec: { provider: local }
---
apiVersion: setopsd/v1
kind: Project
metadata: { name: shop }
---
apiVersion: setopsd/v1
kind: Stage
metadata: { name: staging, project: shop }
---
apiVersion: setopsd/v1
kind: App
metadata: { name: api, project: shop }
spec:
  command: [node, http-app.mjs]
  workdir: apps
  public: true
  healthCheck: { path: /health, interval: 5, timeout: 2, retries: 1, startPeriod: 0 }
  env: ${env}
`,
  );

t.test('progress names each change once; an unchanged re-apply still closes with the summary', async (t) => {
  await manifests('{ GREETING: hi, OTHER: x }');
  t.equal((await run(['apply', '--yes'])).code, 0);
  await manifests('{ GREETING: hello, OTHER: y }');
  const r = await run(['apply', '--yes']);
  t.equal(r.code, 0, r.stdout + r.stderr);
  const progress = r.stdout.split('\n').filter((l) => /^acme\/shop\/staging:   /.test(l));
  t.same(progress, [
    'acme/shop/staging:   app/api updating env.GREETING, env.OTHER',
    'acme/shop/staging:   app/api env.GREETING updated',
    'acme/shop/staging:   app/api env.OTHER updated',
  ]);
  t.notMatch(r.stdout, /app\/api started/);

  const again = await run(['apply', '--yes']);
  t.equal(again.code, 0);
  t.match(again.stdout, /acme\/shop\/staging: no changes/);
  t.match(again.stdout, /\napply: 0 succeeded, 1 unchanged, 0 failed, 0 skipped\n$/, 'the closing summary line appears');
});

t.test('a failed deployment prints its error once (not in the closing line, not as a log line)', async (t) => {
  await manifests('{ GREETING: hello, OTHER: y, UNHEALTHY: "1" }');
  const r = await run(['apply', '--yes']);
  t.equal(r.code, 1);
  const all = r.stdout + r.stderr;
  const message = /did not become healthy within \d+ s/;
  t.equal(all.split('\n').filter((l) => message.test(l)).length, 1, all);
  t.match(r.stdout, /acme\/shop\/staging:   app\/api failed: app\/api in acme\/shop\/staging: process 0 of the new version did not become healthy/);
  t.match(r.stdout, /acme\/shop\/staging: deployment #3 failed in \S+ \(E_UNHEALTHY, above\)\nacme\/shop\/staging:   deployment log: .*deploy-000003\.log\n/);
  t.match(r.stdout, /\napply: 0 succeeded, 0 unchanged, 1 failed \(acme\/shop\/staging\), 0 skipped\n$/);
});

t.test('the printer: started once per subject, outcomes per change, a failure message once', async (t) => {
  const ref = { organization: 'acme', project: 'shop', stage: 'staging' };
  const change = (subject: string, path: string, op: 'create' | 'update' = 'update') => ({ op, subject, path, before: null, after: null, dataLoss: false, command: '' });
  const deployment = {
    number: 4,
    log: '/l/deploy-000004.log',
    status: 'failed',
    error: { code: 'E_X', message: 'service/db in acme/shop/staging: boom' },
    summary: { create: 1, update: 2, replace: 0, delete: 0 },
    changeset: { ref, changes: [change('service/db', '', 'create'), change('app/web', 'scale'), change('app/web', 'env.A')] },
  } as unknown as Deployment;
  const print = applyProgressPrinter();
  const events: ApplyEvent[] = [
    { type: 'started', ref, deployment },
    { type: 'progress', ref, event: { subject: 'app/web', status: 'started' } },
    { type: 'progress', ref, event: { subject: 'app/web', status: 'started' } },
    { type: 'progress', ref, event: { subject: 'app/web', status: 'succeeded' } },
    { type: 'progress', ref, event: { subject: 'app/web', status: 'succeeded' } },
    { type: 'progress', ref, event: { subject: 'service/db', status: 'started' } },
    { type: 'progress', ref, event: { subject: 'service/db', status: 'failed', message: 'service/db in acme/shop/staging: boom' } },
    { type: 'progress', ref, event: { subject: 'service/db', status: 'failed', message: 'service/db in acme/shop/staging: boom' } },
    { type: 'finished', ref, deployment, durationMs: 1500 },
  ];
  t.equal(
    events.map(print).join(''),
    [
      'acme/shop/staging: deployment #4 started (1 create, 2 update)',
      'acme/shop/staging:   app/web updating scale, env.A',
      'acme/shop/staging:   app/web scale updated',
      'acme/shop/staging:   app/web env.A updated',
      'acme/shop/staging:   service/db creating',
      'acme/shop/staging:   service/db failed: service/db in acme/shop/staging: boom',
      'acme/shop/staging: deployment #4 failed in 1.5s (E_X, above)',
      'acme/shop/staging:   deployment log: /l/deploy-000004.log',
      '',
    ].join('\n'),
  );
});
