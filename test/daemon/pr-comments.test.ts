/**
 * `setopsd daemon --comment-prs`: a real daemon (git repository, HTTP server on 127.0.0.1) gets
 * signed pull_request webhooks (a real payload of @octokit/webhooks-examples) and posts the plan
 * comment through the real @octokit/rest client to a local stand-in of the GitHub API.
 */
import t from 'tap';
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { daemonFor, manifests } from './helpers.js';
import { fakeForge } from '../helpers/fake-forge.js';
import { request } from '../helpers/http.js';
import { waitFor } from '../helpers/wait.js';
import { readDaemonInfo } from '../../src/daemon/instance.js';
import { pino } from 'pino';

const SECRET = 'pr-comment-webhook-secret';
const TOKEN = 'ghs_daemonCANARY0123456789abcdef';
type Definition = { name: string; examples: Record<string, any>[] };
const examples = (createRequire(import.meta.url)('@octokit/webhooks-examples') as Definition[]).find((d) => d.name === 'pull_request')!.examples;
const opened = examples.find((e) => e.action === 'opened')!;

t.test('opened and synchronize post and update one comment; closed is left alone', async (t) => {
  const forge = await fakeForge(t, { token: TOKEN });
  const d = await daemonFor(t, manifests({ greeting: 'hello' }), {
    daemon: { webhookSecret: SECRET, commentPrs: true },
    env: { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: forge.url },
  });
  await waitFor('staging applied', async () => (await d.record('staging'))?.state === 'ready');
  d.repo.branch('feature-x');
  d.repo.checkout('feature-x');
  const port = Number(new URL((await readDaemonInfo(d.stateDir))!.url).port);
  const hook = (action: string, head: string, state = 'open') => {
    const payload = structuredClone(opened);
    payload.action = action;
    payload.number = 12;
    Object.assign(payload.pull_request, { number: 12, state, head: { ...payload.pull_request.head, ref: 'feature-x', sha: head }, base: { ...payload.pull_request.base, ref: 'main', sha: d.repo.revParse('main') } });
    payload.repository.full_name = 'acme/shop';
    const body = JSON.stringify(payload);
    return request(port, '/hooks/github', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` },
    });
  };

  const head1 = d.repo.commit('scale web', manifests({ greeting: 'hello', scale: 2 }));
  const r1 = await hook('opened', head1);
  t.equal(r1.status, 202, r1.body);
  t.match(JSON.parse(r1.body), { comment: 'planning', branch: 'feature-x', open: true });
  const [first] = await waitFor('the comment', () => (forge.on('acme/shop#12').length === 1 && forge.statuses.length === 1 ? forge.on('acme/shop#12') : null));
  t.match(first!.body, /^<!-- setopsd:plan dir=config -->\n### setopsd plan: config\n/);
  t.match(first!.body, /`acme\/shop\/staging`/);
  t.match(first!.body, /! ~ app\/web scale: 1 → 2/);
  t.match(first!.body, /the daemon applies main/);
  t.match(forge.statuses[0], { target: 'acme/shop', sha: head1, body: { state: 'success', context: 'setopsd/plan (config)' } });

  const head2 = d.repo.commit('scale web more', manifests({ greeting: 'hello', scale: 3 }));
  const r2 = await hook('synchronize', head2);
  t.equal(r2.status, 202);
  await waitFor('the comment updated', () => forge.on('acme/shop#12')[0]!.body.includes('scale: 1 → 3') && forge.statuses.length === 2);
  t.same(forge.on('acme/shop#12').map((c) => c.id), [first!.id], 'the same comment');
  t.equal(forge.statuses[1]!.sha, head2);

  const before = forge.requests.length;
  const closed = await hook('closed', head2, 'closed');
  t.equal(closed.status, 202);
  t.match(JSON.parse(closed.body), { comment: 'left alone: the pull request is closed', open: false });
  const labeled = await hook('labeled', head2);
  t.match(JSON.parse(labeled.body), { comment: 'left alone: action labeled does not change the plan' });
  await d.stop();
  t.equal(forge.requests.length, before, 'nothing sent for a closed pull request or a label');
  t.notOk(forge.requests.some((r) => JSON.stringify(r.body ?? '').includes('CANARY')), 'the token is never in a request body');
});

t.test('a refused token is logged as a clear warning without the token', async (t) => {
  const forge = await fakeForge(t, { token: 'the-right-token' });
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  const d = await daemonFor(t, manifests({ greeting: 'hello' }), { daemon: { webhookSecret: SECRET, commentPrs: true }, env: { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: forge.url }, log });
  d.repo.branch('feature-x');
  const port = Number(new URL((await readDaemonInfo(d.stateDir))!.url).port);
  const payload = structuredClone(opened);
  Object.assign(payload.pull_request, { number: 13, state: 'open', head: { ...payload.pull_request.head, ref: 'feature-x', sha: d.repo.revParse('feature-x') }, base: { ...payload.pull_request.base, ref: 'main' } });
  payload.number = 13;
  payload.repository.full_name = 'acme/shop';
  const body = JSON.stringify(payload);
  const r = await request(port, '/hooks/github', { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` } });
  t.equal(r.status, 202);
  const warning = await waitFor('the warning', () => lines.find((l) => l.includes('the plan comment failed')));
  t.match(JSON.parse(warning), { level: 40, pr: 13, code: 'E_REVIEW_AUTH', msg: /^pull request #13: the plan comment failed: GitHub API: listing comments on acme\/shop#13 failed \(HTTP 401\): Bad credentials/ });
  await d.stop();
  t.notMatch(lines.join(''), /CANARY/, 'the token is in no log line');
});

t.test('--comment-prs without a webhook secret is refused at start', async (t) => {
  await t.rejects(daemonFor(t, manifests({ greeting: 'x' }), { daemon: { commentPrs: true } }), { code: 'E_USAGE', message: /--comment-prs acts on pull_request webhooks: set SETOPSD_WEBHOOK_SECRET/ });
});
