import t, { type Test } from 'tap';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { inspect } from 'node:util';
import {
  E_WEBHOOK_MALFORMED,
  E_WEBHOOK_SECRET,
  E_WEBHOOK_SIGNATURE,
  E_WEBHOOK_TOO_LARGE,
  E_WEBHOOK_UNSIGNED,
  WEBHOOK_MAX_BODY_BYTES,
  WebhookRejection,
  checkBodySize,
  parsePush,
  readWebhook,
  verifyGithub,
  verifyGitlab,
  type WebhookHeaders,
} from '../../src/daemon/webhooks.js';
import { SetopsError } from '../../src/errors.js';

/** The real payloads of `@octokit/webhooks-examples`: one entry per event name, with examples. */
type Definition = { name: string; examples: Record<string, any>[] };
const definitions = createRequire(import.meta.url)('@octokit/webhooks-examples') as Definition[];
const examplesOf = (name: string) => definitions.find((d) => d.name === name)!.examples;
const fixture = (name: string) => readFileSync(new URL(`../fixtures/webhooks/${name}`, import.meta.url));

const SECRET = 'test-webhook-secret';
const sign = (body: Buffer | string, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
const githubHeaders = (event: string, body: Buffer, extra: WebhookHeaders = {}): WebhookHeaders => ({
  'content-type': 'application/json',
  'x-github-event': event,
  'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
  'x-hub-signature-256': sign(body),
  ...extra,
});
const gitlabHeaders = (event: string, extra: WebhookHeaders = {}): WebhookHeaders => ({
  'content-type': 'application/json',
  'x-gitlab-event': event,
  'x-gitlab-token': SECRET,
  'x-gitlab-event-uuid': '13792a34-cac6-4fda-95a8-c58e00a3954e',
  ...extra,
});

/** Runs `fn` and returns the WebhookRejection it throws (fails the test otherwise). */
function rejection(t: Test, fn: () => unknown, status: number, code: string, message: RegExp): WebhookRejection {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  t.type(error, WebhookRejection, `rejected: ${message}`);
  const r = error as WebhookRejection;
  t.equal(r.status, status, `status ${status}`);
  t.equal(r.code, code);
  t.match(r.message, message);
  t.ok(r.message.startsWith('webhook '), 'the message starts with its subject');
  return r;
}

t.test('GitHub: every recorded push example, signed, reads as a push', async (t) => {
  const pushes = examplesOf('push');
  t.ok(pushes.length >= 5, 'the package has push examples');
  t.ok(pushes.some((p) => p.deleted === true), 'including a deletion');
  t.ok(pushes.some((p) => String(p.ref).startsWith('refs/heads/')), 'and a branch push');
  for (const example of pushes) {
    const body = Buffer.from(JSON.stringify(example));
    const event = readWebhook('github', githubHeaders('push', body), body, SECRET);
    t.same(
      event,
      {
        kind: 'push',
        provider: 'github',
        delivery: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
        ref: example.ref,
        before: example.before,
        after: example.after,
        deleted: example.deleted,
        forced: example.forced,
        repository: {
          name: example.repository.full_name,
          webUrl: example.repository.html_url,
          cloneUrls: [example.repository.clone_url, example.repository.ssh_url, example.repository.git_url],
        },
      },
      `${example.ref} ${example.after.slice(0, 7)}`,
    );
  }
  const branch = pushes.find((p) => p.ref === 'refs/heads/master')!;
  const body = Buffer.from(JSON.stringify(branch));
  t.match(readWebhook('github', githubHeaders('push', body), body, SECRET), {
    ref: 'refs/heads/master',
    after: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
    deleted: false,
    repository: { cloneUrls: ['https://github.com/Codertocat/Hello-World.git', 'git@github.com:Codertocat/Hello-World.git'] },
  });
});

t.test('GitHub: the pretty-printed body as sent is what is signed', async (t) => {
  const body = Buffer.from(JSON.stringify(examplesOf('push')[0], null, 2) + '\n');
  t.equal(readWebhook('github', githubHeaders('push', body), body, SECRET).kind, 'push');
  const compact = Buffer.from(JSON.stringify(examplesOf('push')[0]));
  rejection(t, () => verifyGithub(githubHeaders('push', body), compact, SECRET), 401, E_WEBHOOK_SIGNATURE, /does not match/);
});

t.test('GitHub: a form-encoded delivery (content type application/x-www-form-urlencoded)', async (t) => {
  const example = examplesOf('push').find((p) => p.ref === 'refs/heads/master')!;
  const body = Buffer.from(new URLSearchParams({ payload: JSON.stringify(example) }).toString());
  const headers = githubHeaders('push', body, { 'content-type': 'application/x-www-form-urlencoded' });
  t.match(readWebhook('github', headers, body, SECRET), { kind: 'push', ref: 'refs/heads/master', after: example.after });
  const empty = Buffer.from('other=1');
  rejection(
    t,
    () => readWebhook('github', { ...headers, 'x-hub-signature-256': sign(empty) }, empty, SECRET),
    400,
    E_WEBHOOK_MALFORMED,
    /no payload field/,
  );
});

t.test('GitHub: every recorded ping example reads as a ping', async (t) => {
  const pings = examplesOf('ping');
  t.ok(pings.length >= 1);
  for (const example of pings) {
    const body = Buffer.from(JSON.stringify(example));
    t.same(readWebhook('github', githubHeaders('ping', body), body, SECRET), {
      kind: 'ping',
      provider: 'github',
      delivery: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      hookId: example.hook_id,
    });
  }
});

t.test('GitHub: other recorded events are ignored with a reason', async (t) => {
  // pull_request is parsed for preview stages (test/daemon/pull-request-webhooks.test.ts).
  const others = definitions.filter((d) => d.name !== 'push' && d.name !== 'ping' && d.name !== 'pull_request' && d.examples.length > 0);
  t.ok(others.length > 20);
  for (const definition of others) {
    const body = Buffer.from(JSON.stringify(definition.examples[0]));
    const event = readWebhook('github', githubHeaders(definition.name, body), body, SECRET);
    t.same(
      event,
      {
        kind: 'ignored',
        provider: 'github',
        delivery: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
        event: definition.name,
        reason: `GitHub event "${definition.name}" is not acted on (only push, pull_request and ping)`,
      },
      definition.name,
    );
  }
});

t.test("GitHub: the signature example of GitHub's documentation", async (t) => {
  // docs.github.com "Validating webhook deliveries": secret and payload below give this signature.
  const headers = { 'X-Hub-Signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' };
  t.doesNotThrow(() => verifyGithub(headers, Buffer.from('Hello, World!'), "It's a Secret to Everybody"));
  const upper = { 'x-hub-signature-256': headers['X-Hub-Signature-256'].toUpperCase().replace('SHA256=', 'sha256=') };
  t.doesNotThrow(() => verifyGithub(upper, Buffer.from('Hello, World!'), "It's a Secret to Everybody"), 'hex in any case');
  rejection(t, () => verifyGithub(headers, Buffer.from('Hello, World?'), "It's a Secret to Everybody"), 401, E_WEBHOOK_SIGNATURE, /does not match/);
});

t.test('GitHub: unsigned, wrongly signed and malformed signatures are 401', async (t) => {
  const body = Buffer.from(JSON.stringify(examplesOf('push')[0]));
  const without = githubHeaders('push', body, { 'x-hub-signature-256': undefined });
  rejection(t, () => verifyGithub(without, body, SECRET), 401, E_WEBHOOK_UNSIGNED, /not signed \(no X-Hub-Signature-256 header\)/);
  rejection(
    t,
    () => verifyGithub({ ...without, 'x-hub-signature': 'sha1=0123456789abcdef0123456789abcdef01234567' }, body, SECRET),
    401,
    E_WEBHOOK_UNSIGNED,
    /only with SHA-1/,
  );
  rejection(t, () => verifyGithub(githubHeaders('push', body, { 'x-hub-signature-256': sign(body, 'other') }), body, SECRET), 401, E_WEBHOOK_SIGNATURE, /does not match the body/);
  const tampered = Buffer.from(body.toString().replace('refs/tags', 'refs/heads'));
  rejection(t, () => verifyGithub(githubHeaders('push', body), tampered, SECRET), 401, E_WEBHOOK_SIGNATURE, /does not match the body/);
  for (const bad of ['sha256=', 'sha256=abcd', `sha256=${'g'.repeat(64)}`, `sha1=${'a'.repeat(40)}`, sign(body) + 'ab', 'garbage', '']) {
    rejection(t, () => verifyGithub(githubHeaders('push', body, { 'x-hub-signature-256': bad }), body, SECRET), 401, E_WEBHOOK_SIGNATURE, /not of the form sha256=<64 hex digits>/);
  }
});

t.test('GitHub: a header sent twice, a missing event header, bad JSON and pushes without ref/after are 400', async (t) => {
  const body = Buffer.from(JSON.stringify(examplesOf('push')[0]));
  rejection(t, () => verifyGithub(githubHeaders('push', body, { 'x-hub-signature-256': [sign(body), sign(body)] }), body, SECRET), 400, E_WEBHOOK_MALFORMED, /x-hub-signature-256 is given 2 times/);
  t.doesNotThrow(() => verifyGithub(githubHeaders('push', body, { 'x-hub-signature-256': [sign(body)] }), body, SECRET), 'an array of one value');
  rejection(t, () => parsePush('github', { 'content-type': 'application/json' }, body), 400, E_WEBHOOK_MALFORMED, /no X-GitHub-Event header/);
  for (const [text, why] of [
    ['{"ref": "refs/heads/main", ', /not valid JSON/],
    ['', /not valid JSON/],
    ['[1, 2]', /not a JSON object/],
    ['null', /not a JSON object/],
    ['"push"', /not a JSON object/],
    [JSON.stringify({ after: 'a'.repeat(40) }), /no "ref" of the form refs\//],
    [JSON.stringify({ ref: 'main', after: 'a'.repeat(40) }), /no "ref" of the form refs\//],
    [JSON.stringify({ ref: 'refs/heads/main' }), /no "after" commit SHA/],
    [JSON.stringify({ ref: 'refs/heads/main', after: 'HEAD' }), /no "after" commit SHA/],
  ] as const) {
    const raw = Buffer.from(text);
    rejection(t, () => readWebhook('github', githubHeaders('push', raw), raw, SECRET), 400, E_WEBHOOK_MALFORMED, why);
  }
  const secretInBody = Buffer.from('{"token": "do-not-echo-me", oops}');
  const r = rejection(t, () => parsePush('github', githubHeaders('push', secretInBody), secretInBody), 400, E_WEBHOOK_MALFORMED, /not valid JSON/);
  t.notMatch(inspect(r), /do-not-echo-me/, 'the body is not quoted');
});

t.test('bodies over 25 MiB are 413, checked before the signature and before parsing', async (t) => {
  t.doesNotThrow(() => checkBodySize(WEBHOOK_MAX_BODY_BYTES));
  rejection(t, () => checkBodySize(WEBHOOK_MAX_BODY_BYTES + 1), 413, E_WEBHOOK_TOO_LARGE, /26214401 bytes is over the limit of 26214400 bytes \(25 MiB\)/);
  const huge = Buffer.alloc(WEBHOOK_MAX_BODY_BYTES + 1, 0x20);
  rejection(t, () => verifyGithub({ 'x-github-event': 'push' }, huge, SECRET), 413, E_WEBHOOK_TOO_LARGE, /over the limit/);
  rejection(t, () => parsePush('gitlab', gitlabHeaders('Push Hook'), huge), 413, E_WEBHOOK_TOO_LARGE, /over the limit/);
  rejection(t, () => readWebhook('gitlab', gitlabHeaders('Push Hook'), huge, SECRET), 413, E_WEBHOOK_TOO_LARGE, /over the limit/);
});

t.test('an empty secret is a setup error, not a rejection', async (t) => {
  const body = Buffer.from('{}');
  for (const fn of [() => verifyGithub(githubHeaders('push', body), body, ''), () => verifyGitlab(gitlabHeaders('Push Hook'), '')]) {
    let error: unknown;
    try {
      fn();
    } catch (e) {
      error = e;
    }
    t.type(error, SetopsError);
    t.notOk(error instanceof WebhookRejection, 'not answered as a rejected request');
    t.equal((error as SetopsError).code, E_WEBHOOK_SECRET);
    t.match((error as Error).message, /^webhook secret is empty; configure a non-empty secret/);
  }
});

t.test("GitLab: the documented Push Hook, Tag Push Hook and a branch deletion", async (t) => {
  const push = fixture('gitlab-push-hook.json');
  t.same(readWebhook('gitlab', gitlabHeaders('Push Hook'), push, SECRET), {
    kind: 'push',
    provider: 'gitlab',
    delivery: '13792a34-cac6-4fda-95a8-c58e00a3954e',
    ref: 'refs/heads/master',
    before: '95790bf891e76fee5e1747ab589903a6a1f80f22',
    after: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
    deleted: false,
    repository: {
      name: 'mike/diaspora',
      webUrl: 'http://example.com/mike/diaspora',
      cloneUrls: ['http://example.com/mike/diaspora.git', 'git@example.com:mike/diaspora.git'],
    },
  });
  t.match(readWebhook('gitlab', gitlabHeaders('Tag Push Hook'), fixture('gitlab-tag-push-hook.json'), SECRET), {
    kind: 'push',
    ref: 'refs/tags/v1.0.0',
    before: '0000000000000000000000000000000000000000',
    after: '82b3d5ae55f7080f1e6022629cdb57bfae7cccc7',
    deleted: false,
    repository: { name: 'jsmith/example' },
  });
  t.match(readWebhook('gitlab', gitlabHeaders('Push Hook'), fixture('gitlab-push-hook-branch-deleted.json'), SECRET), {
    kind: 'push',
    ref: 'refs/heads/master',
    before: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
    after: '0000000000000000000000000000000000000000',
    deleted: true,
  });
  t.match(readWebhook('gitlab', gitlabHeaders('System Hook'), push, SECRET), { kind: 'push', ref: 'refs/heads/master' }, 'a system hook push');
  t.same(
    readWebhook('gitlab', gitlabHeaders('System Hook'), Buffer.from('{"event_name":"project_create"}'), SECRET),
    {
      kind: 'ignored',
      provider: 'gitlab',
      delivery: '13792a34-cac6-4fda-95a8-c58e00a3954e',
      event: 'System Hook',
      reason: 'GitLab System Hook of kind null is not acted on (only push and tag_push)',
    },
  );
  t.match(readWebhook('gitlab', gitlabHeaders('Issue Hook'), Buffer.from('{"object_kind":"issue"}'), SECRET), {
    kind: 'ignored',
    event: 'Issue Hook',
    reason: 'GitLab event "Issue Hook" is not acted on (only Push Hook and Tag Push Hook)',
  });
  rejection(t, () => parsePush('gitlab', { 'x-gitlab-token': SECRET }, push), 400, E_WEBHOOK_MALFORMED, /no X-Gitlab-Event header/);
  rejection(t, () => parsePush('gitlab', gitlabHeaders('Push Hook'), Buffer.from('{"object_kind":"push"')), 400, E_WEBHOOK_MALFORMED, /not valid JSON/);
});

t.test('GitLab: a missing or wrong X-Gitlab-Token is 401', async (t) => {
  t.doesNotThrow(() => verifyGitlab({ 'X-Gitlab-Token': SECRET }, SECRET), 'any header case');
  rejection(t, () => verifyGitlab(gitlabHeaders('Push Hook', { 'x-gitlab-token': undefined }), SECRET), 401, E_WEBHOOK_UNSIGNED, /no X-Gitlab-Token header/);
  for (const wrong of ['', 'x', SECRET + 'x', SECRET.slice(0, -1), SECRET.toUpperCase()]) {
    rejection(t, () => verifyGitlab(gitlabHeaders('Push Hook', { 'x-gitlab-token': wrong }), SECRET), 401, E_WEBHOOK_SIGNATURE, /X-Gitlab-Token does not match/);
  }
});

t.test('canary: the secret and the signatures never appear in a rejection', async (t) => {
  const canary = `canary-webhook-secret-${randomBytes(12).toString('hex')}`;
  const body = Buffer.from(JSON.stringify(examplesOf('push')[0]));
  const right = sign(body, canary);
  const wrong = sign(body, `${canary}-wrong`);
  const attempts: (() => unknown)[] = [
    () => verifyGithub({ 'x-github-event': 'push', 'x-hub-signature-256': wrong }, body, canary),
    () => verifyGithub({ 'x-github-event': 'push', 'x-hub-signature-256': right }, Buffer.from('{}'), canary),
    () => verifyGithub({ 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${canary}` }, body, canary),
    () => verifyGithub({ 'x-github-event': 'push', 'x-hub-signature-256': [right, wrong] }, body, canary),
    () => verifyGithub({ 'x-github-event': 'push' }, body, canary),
    () => verifyGithub({}, Buffer.alloc(WEBHOOK_MAX_BODY_BYTES + 1), canary),
    () => verifyGitlab({ 'x-gitlab-token': `${canary}-wrong` }, canary),
    () => verifyGitlab({ 'x-gitlab-token': canary.slice(0, -1) }, canary),
    () => verifyGitlab({}, canary),
    () => readWebhook('github', { 'x-github-event': 'push', 'x-hub-signature-256': sign(`{"secret":"${canary}"`, canary) }, Buffer.from(`{"secret":"${canary}"`), canary),
    () => readWebhook('gitlab', { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': canary }, Buffer.from(`{"object_kind":"push","ref":"${canary}"}`), canary),
  ];
  const forbidden = [canary, right.slice(7), wrong.slice(7), Buffer.from(canary).toString('base64')];
  for (const [i, attempt] of attempts.entries()) {
    let error: unknown;
    try {
      attempt();
    } catch (e) {
      error = e;
    }
    t.type(error, WebhookRejection, `attempt ${i} is rejected`);
    const seen = [(error as Error).message, JSON.stringify((error as SetopsError).data), inspect(error, { depth: 10 })].join('\n');
    for (const secret of forbidden) t.notOk(seen.includes(secret), `attempt ${i}: no secret or signature in the rejection`);
  }
});
