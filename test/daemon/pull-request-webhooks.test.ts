/** pull_request (GitHub) and Merge Request Hook (GitLab) webhooks become PullRequestEvents: the real payloads of @octokit/webhooks-examples. */
import t from 'tap';
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { readWebhook, WebhookRejection } from '../../src/daemon/webhooks.js';
import { previewModel } from '../../src/model/preview-stage.js';
import { app, service, stage } from '../helpers/models.js';

type Definition = { name: string; examples: Record<string, any>[] };
const definitions = createRequire(import.meta.url)('@octokit/webhooks-examples') as Definition[];
const examples = definitions.find((d) => d.name === 'pull_request')!.examples;
const SECRET = 'pr-webhook-secret';
const github = (body: Buffer) => ({ 'x-github-event': 'pull_request', 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` });

t.test('every real GitHub pull_request example parses: number, head branch, open unless closed', async (t) => {
  t.ok(examples.length > 5, 'examples found');
  for (const ex of examples) {
    const body = Buffer.from(JSON.stringify(ex));
    const event = readWebhook('github', github(body), body, SECRET);
    t.match(event, { kind: 'pull-request', number: ex.number, branch: ex.pull_request.head.ref, action: ex.action, open: ex.action !== 'closed' && ex.pull_request.state !== 'closed' }, `${ex.action}`);
  }
});

t.test('a pull request whose head is in another repository is from a fork (GitHub head.repo, GitLab source_project_id)', async (t) => {
  const ex = structuredClone(examples.find((e) => e.action === 'opened')!);
  const same = Buffer.from(JSON.stringify(ex));
  t.notOk((readWebhook('github', github(same), same, SECRET) as { fromFork?: boolean }).fromFork, 'the real example: head and base in one repository');
  ex.pull_request.head.repo = { ...ex.pull_request.head.repo, full_name: 'someone/fork' };
  const fork = Buffer.from(JSON.stringify(ex));
  t.match(readWebhook('github', github(fork), fork, SECRET), { kind: 'pull-request', fromFork: true });
  for (const [source, fromFork] of [[7, undefined], [8, true]] as const) {
    const body = Buffer.from(JSON.stringify({ object_kind: 'merge_request', object_attributes: { iid: 3, source_branch: 'x', target_branch: 'main', action: 'open', state: 'opened', source_project_id: source, target_project_id: 7 } }));
    t.equal((readWebhook('gitlab', { 'x-gitlab-event': 'Merge Request Hook', 'x-gitlab-token': SECRET }, body, SECRET) as { fromFork?: boolean }).fromFork, fromFork, `GitLab source project ${source}`);
  }
});

t.test('a pull_request without a number or head branch is refused with 400', async (t) => {
  const body = Buffer.from(JSON.stringify({ action: 'opened', pull_request: {} }));
  let caught: unknown;
  try {
    readWebhook('github', github(body), body, SECRET);
  } catch (err) {
    caught = err;
  }
  t.ok(caught instanceof WebhookRejection, 'a WebhookRejection');
  t.match(caught, { status: 400, code: 'E_WEBHOOK_MALFORMED', message: /no number, action or head\.ref/ });
});

t.test('GitLab merge requests: opened is open, merge and close are not', async (t) => {
  for (const [action, state, open] of [['open', 'opened', true], ['update', 'opened', true], ['merge', 'merged', false], ['close', 'closed', false]] as const) {
    const body = Buffer.from(JSON.stringify({ object_kind: 'merge_request', object_attributes: { iid: 12, source_branch: 'feature-y', target_branch: 'main', action, state } }));
    const event = readWebhook('gitlab', { 'x-gitlab-event': 'Merge Request Hook', 'x-gitlab-token': SECRET }, body, SECRET);
    t.match(event, { kind: 'pull-request', number: 12, branch: 'feature-y', base: 'main', open }, action);
  }
});

t.test('a preview model: renamed, unprotected, approval auto, no after, no domains, no deletion protection', async (t) => {
  const from = stage({ name: 'staging', protected: true, approval: 'manual', after: 'dev', apps: { web: app({ domains: { 'shop.example.com': { primary: true } } }) }, services: { db: service('postgresql', { deletionProtection: true }) } });
  const p = previewModel(from, 'pr-7');
  t.match(p.stage, { name: 'pr-7', protected: false, approval: 'auto' });
  t.notOk('after' in p.stage);
  t.same(p.apps.web!.domains, {});
  t.equal(p.services.db!.deletionProtection, false);
  t.equal(from.stage.name, 'staging', 'the source model is unchanged');
});
