/**
 * Notifications that arrive, end to end: `setopsd apply` (in-process CLI, real clock) on the real
 * local engine with a fixture app sends the stage's notifications to a local webhook receiver
 * (signature checked) and a local SMTP server — a succeeded deployment with its changeset
 * summary, a failed one with its error — and a receiver that is down changes nothing about the
 * deployment's outcome. Secret canaries (an app secret the failing pre-deploy step prints, the
 * signing key, the SMTP password) appear in no notification, log or journal entry.
 */
import t from 'tap';
import { chmod, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { realClock, realSleep } from '../../src/sleep.js';
import type { Deps } from '../../src/deps.js';
import { verifySignature } from '../../src/providers/notify/signature.js';
import { runCli } from '../helpers/deps.js';
import { killMentioning, repoRoot } from '../e2e/helpers.js';
import { tempDir } from '../helpers/temp.js';
import { smtpReceiver, webhookReceiver } from '../helpers/receivers.js';

const APP_SECRET = `app-canary-${process.pid}-x91`;
const SIGNING_KEY = `hook-canary-${process.pid}-k27`;
const SMTP_PASSWORD = `smtp-canary-${process.pid}-p55`;

const dir = tempDir(t, 'setopsd-notify-');
const stateDir = join(dir, '.setopsd');
await symlink(join(repoRoot, 'test/fixtures/local-apps'), join(dir, 'apps'));
const secretsFile = join(tempDir(t, 'setopsd-notify-secrets-'), 'secrets.env');
await writeFile(secretsFile, `API_KEY=${APP_SECRET}\nHOOK_KEY=${SIGNING_KEY}\nSMTP_PASSWORD=${SMTP_PASSWORD}\n`);
await chmod(secretsFile, 0o600);

function run(argv: string[], over: Partial<Deps> = {}) {
  return runCli(argv, { clock: realClock, sleep: realSleep, env: process.env, cwd: dir, ...over });
}

t.teardown(async () => {
  await run(['destroy', 'shop/staging', '--yes', '--allow-data-loss']).catch(() => undefined);
  await killMentioning(dir);
});

const hook = await webhookReceiver(t);
const smtp = await smtpReceiver(t, { user: 'setopsd', password: SMTP_PASSWORD });

async function manifests(o: { version: string; failPreDeploy?: boolean; hookUrl?: string }): Promise<void> {
  await writeFile(
    join(dir, 'setops.yaml'),
    [
      'apiVersion: setopsd/v1',
      'kind: Organization',
      'metadata: { name: acme }',
      'spec:',
      '  provider: local',
      `  secrets: { file: ${secretsFile} }`,
      `  smtp: { host: 127.0.0.1, port: ${smtp.port}, from: setopsd@acme.dev, user: setopsd, password: { secret: SMTP_PASSWORD } }`,
      '---',
      'apiVersion: setopsd/v1',
      'kind: Project',
      'metadata: { name: shop }',
      '---',
      'apiVersion: setopsd/v1',
      'kind: Stage',
      'metadata: { name: staging, project: shop }',
      'spec:',
      '  notifications:',
      `    - { webhook: "${o.hookUrl ?? hook.url}", name: ops-hook, secret: { secret: HOOK_KEY }, timeout: 2 }`,
      '    - { email: oncall@acme.dev, events: [deployment.failed] }',
      '---',
      'apiVersion: setopsd/v1',
      'kind: App',
      'metadata: { name: web, project: shop }',
      'spec:',
      '  command: [node, http-app.mjs]',
      '  workdir: apps',
      '  healthCheck: { path: /health, interval: 5, retries: 1, startPeriod: 0 }',
      '  env:',
      `    VERSION: ${o.version}`,
      '    API_KEY: { secret: API_KEY }',
      ...(o.failPreDeploy ? ['  preDeploy: { command: "echo using key $API_KEY; exit 3" }'] : []),
      '',
    ].join('\n'),
  );
}

t.test('a succeeded deployment posts a signed notice with its changeset summary', async (t) => {
  await manifests({ version: 'v1' });
  const r = await run(['apply', '--stage', 'staging', '--yes']);
  t.equal(r.code, 0, r.stdout + r.stderr);
  t.equal(hook.posts.length, 1, 'delivered before the command returned');
  const post = hook.posts[0]!;
  t.ok(verifySignature(SIGNING_KEY, post.body, post.headers['x-setopsd-signature-256'] as string), 'signed with the key from the secrets file');
  const body = JSON.parse(post.body);
  t.match(body, { event: 'deployment.succeeded', stage: 'acme/shop/staging', data: { deployment: 1, status: 'succeeded', summary: { create: 4 } } });
  t.match(body.text, /\+ app\/web/);
  t.equal(smtp.mails.length, 0, 'the e-mail target only wants failures');
});

t.test('a failed deployment sends its error to the webhook and by e-mail; no secret leaks', async (t) => {
  await manifests({ version: 'v2', failPreDeploy: true });
  const r = await run(['apply', '--stage', 'staging', '--yes']);
  t.equal(r.code, 1, 'the deployment failed');
  t.equal(hook.posts.length, 2);
  const body = JSON.parse(hook.posts[1]!.body);
  t.match(body, { event: 'deployment.failed', severity: 'error', data: { deployment: 2, error: { code: /^E_/ } } });
  t.match(body.text, /Error E_PREDEPLOY: app\/web in acme\/shop\/staging: the pre-deploy command exited with code 3/);
  t.equal(smtp.mails.length, 1);
  t.match(smtp.mails[0]!.raw, /Subject: \[setopsd\] acme\/shop\/staging: deployment #2 failed/);
  t.same(smtp.mails[0]!.to, ['oncall@acme.dev']);

  const journal = await readdir(join(stateDir, 'stages/acme/shop/staging/journal'));
  const stored = await Promise.all(journal.map((f) => readFile(join(stateDir, 'stages/acme/shop/staging/journal', f), 'utf8')));
  const everything = [...hook.posts.map((p) => p.body + JSON.stringify(p.headers)), ...smtp.mails.map((m) => m.raw), r.stdout, r.stderr, ...stored].join('\n');
  for (const canary of [APP_SECRET, SIGNING_KEY, SMTP_PASSWORD]) t.notOk(everything.includes(canary), `${canary} appears in no notification, output or journal entry`);
});

t.test('a receiver that is down never blocks or fails the deployment', async (t) => {
  const down = await webhookReceiver(t, [503, 503, 503, 503]);
  await manifests({ version: 'v3', hookUrl: down.url });
  // Instant backoff (the deployment itself runs on the real clock).
  const r = await run(['apply', '--stage', 'staging', '--yes'], { sleep: async (ms, signal) => (ms >= 1000 ? undefined : realSleep(ms, signal)) });
  t.equal(r.code, 0, r.stdout + r.stderr);
  t.match(r.stdout, /deployment #3 succeeded/);
  t.equal(down.posts.length, 4, 'every attempt was made, then given up');
});
