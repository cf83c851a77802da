/**
 * Delivery of notices to a stage's targets, against real receivers on 127.0.0.1: signed webhook
 * POSTs (HMAC-SHA256 checked by the receiver), retries with exponential backoff on 5xx, 429 and
 * timeouts, no retry on other 4xx, the Slack-compatible body, e-mail through a real SMTP server
 * with AUTH, and failures that are logged and counted but never thrown.
 */
import t from 'tap';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { app, stage } from '../helpers/models.js';
import { smtpReceiver, webhookReceiver } from '../helpers/receivers.js';
import { Notifier } from '../../src/providers/notify/notifier.js';
import { deploymentNotice } from '../../src/providers/notify/notices.js';
import { verifySignature } from '../../src/providers/notify/signature.js';
import type { SecretResolver } from '../../src/providers/engine.js';
import type { Deployment } from '../../src/state/journal.js';
import type { StageModel } from '../../src/model/stage-model.js';

const REF = { organization: 'acme', project: 'shop', stage: 'staging' };
const SIGNING_KEY = 'whsec-canary-4f1e2d';
const APP_SECRET = 'sk_live_canary_93c7a1';
const SMTP_PASSWORD = 'smtp-canary-pass-77';

const secrets: SecretResolver = {
  get: async (name) => {
    const v = ({ HOOK_KEY: SIGNING_KEY, STRIPE_KEY: APP_SECRET, SMTP_PASSWORD } as Record<string, string>)[name];
    if (v === undefined) throw new Error(`secret ${name} is not set`);
    return v;
  },
};

function deployment(over: Partial<Deployment> = {}): Deployment {
  return {
    formatVersion: 1,
    number: 4,
    stage: 'acme/shop/staging',
    kind: 'apply',
    commit: 'abc1234',
    ref: 'main',
    trigger: 'cli',
    changeset: { ref: REF, changes: [{ op: 'update', subject: 'app/web', path: 'scale', before: 1, after: 3, dataLoss: false, command: 'setops … resource:set scale 3' }] },
    desiredHash: 'sha256:x',
    status: 'succeeded',
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:00:05.000Z',
    log: '/state/logs/deploy-000004.log',
    applied: ['app/web'],
    summary: { create: 0, update: 1, replace: 0, delete: 0 },
    pid: 1,
    host: 'h',
    ...over,
  };
}

/** A logger that keeps its JSON lines, to check what was logged (and that no secret was). */
function capturingLog() {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, new Writable({ write: (chunk, _e, cb) => (lines.push(String(chunk)), cb()) }));
  return { log, lines };
}

function model(notifications: StageModel['stage']['notifications'], org: Partial<StageModel['organization']> = {}): StageModel {
  return stage({ notifications, organization: org, apps: { web: app({ env: { STRIPE_KEY: { secret: 'STRIPE_KEY' } } }) } });
}

t.test('a webhook gets one JSON POST signed with X-Setopsd-Signature-256 over the exact body', async (t) => {
  const hook = await webhookReceiver(t);
  const notifier = new Notifier({ log: pino({ level: 'silent' }), sleep: async () => {} });
  notifier.notify(model({ ops: { type: 'webhook', target: hook.url, secret: { secret: 'HOOK_KEY' } } }), deploymentNotice(REF, deployment(), Date.parse('2026-01-01T00:00:05Z')), secrets);
  await notifier.drain();
  t.equal(hook.posts.length, 1);
  const post = hook.posts[0]!;
  t.equal(post.headers['content-type'], 'application/json');
  t.ok(verifySignature(SIGNING_KEY, post.body, post.headers['x-setopsd-signature-256'] as string), 'the receiver verifies the signature with the shared key');
  t.notOk(verifySignature('another-key', post.body, post.headers['x-setopsd-signature-256'] as string), 'a different key does not verify');
  t.equal(post.headers['x-setopsd-event'], 'deployment.succeeded');
  const body = JSON.parse(post.body);
  t.match(body, { formatVersion: 1, event: 'deployment.succeeded', stage: 'acme/shop/staging', severity: 'info', data: { deployment: 4, commit: 'abc1234', summary: { update: 1 } } });
  t.match(body.text, /~ app\/web scale/);
  t.match(body.text, /setopsd show acme\/shop\/staging 4/);
  t.same(notifier.counts, { delivered: { email: 0, webhook: 1 }, failed: { email: 0, webhook: 0 } });
});

t.test('5xx and 429 answers are retried with exponential backoff; the same delivery id each time', async (t) => {
  const hook = await webhookReceiver(t, [500, 503, 429]);
  const waits: number[] = [];
  const notifier = new Notifier({ log: pino({ level: 'silent' }), sleep: async (ms) => void waits.push(ms), webhookAttempts: 4, webhookBackoffMs: 1000 });
  notifier.notify(model({ ops: { type: 'webhook', target: hook.url } }), deploymentNotice(REF, deployment(), 0), secrets);
  await notifier.drain();
  t.equal(hook.posts.length, 4, 'three failures, then delivered');
  t.same(waits, [1000, 2000, 4000]);
  t.same(hook.posts.map((p) => p.headers['x-setopsd-attempt']), ['1', '2', '3', '4']);
  t.equal(new Set(hook.posts.map((p) => p.headers['x-setopsd-delivery'])).size, 1, 'a receiver can de-duplicate retries');
  t.equal(hook.posts[0]!.headers['x-setopsd-signature-256'], undefined, 'no key: not signed');
  t.equal(notifier.counts.delivered.webhook, 1);
});

t.test('an attempt that gets no answer times out and is retried', async (t) => {
  const hook = await webhookReceiver(t, ['hang']);
  const notifier = new Notifier({ log: pino({ level: 'silent' }), sleep: async () => {}, timeoutMs: 300 });
  notifier.notify(model({ ops: { type: 'webhook', target: hook.url } }), deploymentNotice(REF, deployment(), 0), secrets);
  await notifier.drain();
  t.equal(hook.posts.length, 2, 'the hung attempt, then a delivered one');
  t.equal(notifier.counts.delivered.webhook, 1);
});

t.test('a 4xx answer other than 408/429 is final; the failure is logged and counted, never thrown', async (t) => {
  const hook = await webhookReceiver(t, [410]);
  const { log, lines } = capturingLog();
  const outcomes: unknown[] = [];
  const notifier = new Notifier({ log, sleep: async () => {}, onDelivery: (o) => outcomes.push(o) });
  notifier.notify(model({ ops: { type: 'webhook', target: hook.url, secret: { secret: 'HOOK_KEY' } } }), deploymentNotice(REF, deployment({ status: 'failed', error: { code: 'E_UNHEALTHY', message: 'app/web: not healthy' } }), 0), secrets);
  await notifier.drain();
  t.equal(hook.posts.length, 1);
  t.same(notifier.counts.failed.webhook, 1);
  t.match(outcomes, [{ stage: 'acme/shop/staging', target: 'ops', channel: 'webhook', event: 'deployment.failed', ok: false, attempts: 1, reason: 'answered HTTP 410' }]);
  t.match(lines.join(''), /notification ops of acme\/shop\/staging: deployment.failed not delivered: answered HTTP 410/);
  t.notMatch(lines.join(''), SIGNING_KEY);
});

t.test('an unreachable receiver fails after its attempts; notify returned at once', async (t) => {
  // A port that was just free: nothing listens there now.
  const closed = await new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
  const outcomes: { attempts: number; reason?: string }[] = [];
  const notifier = new Notifier({ log: pino({ level: 'silent' }), sleep: async () => {}, webhookAttempts: 3, onDelivery: (o) => outcomes.push(o) });
  notifier.notify(model({ dead: { type: 'webhook', target: `http://127.0.0.1:${closed}/hook` } }), deploymentNotice(REF, deployment(), 0), secrets);
  t.same(outcomes, [], 'notify does not wait for the delivery');
  await notifier.drain();
  t.match(outcomes, [{ ok: false, attempts: 3, reason: /cannot connect: ECONNREFUSED/ }]);
  t.equal(notifier.counts.failed.webhook, 1);
});

t.test('format: slack sends a Slack-compatible { text, blocks } body', async (t) => {
  const hook = await webhookReceiver(t);
  const notifier = new Notifier({ log: pino({ level: 'silent' }), sleep: async () => {} });
  notifier.notify(model({ slack: { type: 'webhook', target: hook.url, format: 'slack' } }), deploymentNotice(REF, deployment({ status: 'failed', error: { code: 'E_UNHEALTHY', message: 'app/web <v2> not healthy' } }), 0), secrets);
  await notifier.drain();
  const body = JSON.parse(hook.posts[0]!.body);
  t.equal(body.text, ':rotating_light: acme/shop/staging: deployment #4 failed');
  t.equal(body.blocks[0].type, 'section');
  t.match(body.blocks[1].text.text, /Error E_UNHEALTHY: app\/web &lt;v2&gt; not healthy/, 'mrkdwn is escaped');
  t.equal(body.formatVersion, undefined, 'only Slack fields');
});

t.test('events: filters what a target receives', async (t) => {
  const hook = await webhookReceiver(t);
  const notifier = new Notifier({ log: pino({ level: 'silent' }), sleep: async () => {} });
  const m = model({ failures: { type: 'webhook', target: hook.url, events: ['deployment.failed'] } });
  notifier.notify(m, deploymentNotice(REF, deployment(), 0), secrets);
  notifier.notify(m, deploymentNotice(REF, deployment({ number: 5, status: 'failed', error: { code: 'E_UNHEALTHY', message: 'x' } }), 0), secrets);
  await notifier.drain();
  t.same(hook.posts.map((p) => JSON.parse(p.body).event), ['deployment.failed']);
});

t.test('e-mail goes through the organization\'s SMTP server with AUTH (password by secret reference)', async (t) => {
  const smtp = await smtpReceiver(t, { user: 'setopsd', password: SMTP_PASSWORD });
  const notifier = new Notifier({ log: pino({ level: 'silent' }), sleep: async () => {} });
  const m = model({ oncall: { type: 'email', target: 'oncall@acme.dev' } }, { smtp: { host: '127.0.0.1', port: smtp.port, from: 'setopsd@acme.dev', user: 'setopsd', password: { secret: 'SMTP_PASSWORD' } } });
  notifier.notify(m, deploymentNotice(REF, deployment({ status: 'failed', error: { code: 'E_UNHEALTHY', message: 'app/web: not healthy' } }), 0), secrets);
  await notifier.drain();
  t.equal(smtp.mails.length, 1);
  const mail = smtp.mails[0]!;
  t.equal(mail.from, 'setopsd@acme.dev');
  t.same(mail.to, ['oncall@acme.dev']);
  t.equal(mail.user, 'setopsd', 'authenticated');
  t.match(mail.raw, /Subject: \[setopsd\] acme\/shop\/staging: deployment #4 failed/);
  t.match(mail.raw, /Error E_UNHEALTHY: app\/web: not healthy/);
  t.match(mail.raw, /X-Setopsd-Event: deployment.failed/);
  t.notMatch(mail.raw, SMTP_PASSWORD);
  t.same(notifier.counts.delivered.email, 1);
});

t.test('a wrong SMTP password or no smtp server is a counted, logged failure', async (t) => {
  const smtp = await smtpReceiver(t, { user: 'setopsd', password: 'the-real-one' });
  const { log, lines } = capturingLog();
  const notifier = new Notifier({ log, sleep: async () => {} });
  notifier.notify(model({ a: { type: 'email', target: 'a@acme.dev' } }, { smtp: { host: '127.0.0.1', port: smtp.port, from: 's@acme.dev', user: 'setopsd', password: { secret: 'SMTP_PASSWORD' } } }), deploymentNotice(REF, deployment(), 0), secrets);
  notifier.notify(model({ b: { type: 'email', target: 'b@acme.dev' } }), deploymentNotice(REF, deployment(), 0), secrets);
  await notifier.drain();
  t.equal(smtp.mails.length, 0);
  t.equal(smtp.authFailures, 1);
  t.equal(notifier.counts.failed.email, 2);
  const text = lines.join('');
  t.match(text, /notification a of acme\/shop\/staging: deployment.succeeded not delivered: EAUTH/);
  t.match(text, /notification b of acme\/shop\/staging: deployment.succeeded not delivered: organization acme has no smtp server/);
  t.notMatch(text, SMTP_PASSWORD);
});

t.test('canary: a secret value that slipped into a notice is redacted before it leaves, in every channel', async (t) => {
  const hook = await webhookReceiver(t);
  const slack = await webhookReceiver(t);
  const smtp = await smtpReceiver(t);
  const notifier = new Notifier({ log: pino({ level: 'silent' }), sleep: async () => {} });
  const m = model(
    { hook: { type: 'webhook', target: hook.url, secret: { secret: 'HOOK_KEY' } }, slack: { type: 'webhook', target: slack.url, format: 'slack' }, mail: { type: 'email', target: 'ops@acme.dev' } },
    { smtp: { host: '127.0.0.1', port: smtp.port, from: 's@acme.dev' } },
  );
  // An error message quoting an app's output that printed its secret (and the signing key).
  const leaky = deployment({ status: 'failed', error: { code: 'E_PREDEPLOY_FAILED', message: `predeploy said: key=${APP_SECRET} hook="${SIGNING_KEY}"` } });
  notifier.notify(m, deploymentNotice(REF, leaky, 0), secrets);
  await notifier.drain();
  const everything = [...hook.posts, ...slack.posts].map((p) => p.body).join('\n') + smtp.mails.map((x) => x.raw).join('\n');
  t.equal(hook.posts.length + slack.posts.length + smtp.mails.length, 3);
  for (const canary of [APP_SECRET, SIGNING_KEY, SMTP_PASSWORD]) t.notOk(everything.includes(canary), `${canary} appears nowhere`);
  t.match(everything, /key=\(secret STRIPE_KEY\)/);
  t.ok(verifySignature(SIGNING_KEY, hook.posts[0]!.body, hook.posts[0]!.headers['x-setopsd-signature-256'] as string), 'the redacted body is what is signed');
});
