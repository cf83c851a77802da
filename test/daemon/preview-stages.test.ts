/**
 * Preview stages with a real daemon process on the real local engine and a real git repository:
 * a signed pull_request "opened" webhook → pr-7 is applied from the pull request's branch and
 * answers on its own router host (its URL in the API); "closed" → pr-7 is destroyed with its
 * service's data, and no process of it is left.
 */
import t from 'tap';
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { gitRepo } from '../helpers/git.js';
import { tempDir } from '../helpers/temp.js';
import { get, request } from '../helpers/http.js';
import { waitFor } from '../helpers/wait.js';
import { cli, killMentioning, processesMentioning, repoRoot, startCli } from '../e2e/helpers.js';

const manifests = (version: string) => `apiVersion: setopsd/v1
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
spec: { protected: true }
---
apiVersion: setopsd/v1
kind: Service
metadata: { name: uploads, project: shop }
spec: { type: s3 }
---
apiVersion: setopsd/v1
kind: App
metadata: { name: web, project: shop }
spec:
  command: [node, http-app.mjs]
  workdir: apps
  public: true
  healthCheck: { path: /health, interval: 5, startPeriod: 0 }
  env: { VERSION: ${version} }
  links: [{ service: uploads }]
`;

const SECRET = 'preview-webhook-secret';

t.test('pull request opened → pr-7 applied from its branch; closed → pr-7 destroyed, no process left', async (t) => {
  const stateDir = tempDir(t, 'setopsd-previews-');
  const repo = gitRepo(t);
  await symlink(join(repoRoot, 'test/fixtures/local-apps'), join(repo.dir, 'apps'));
  repo.commit('main', { 'setops.yaml': manifests('main') });
  repo.branch('feature-x');
  repo.checkout('feature-x');
  const head = repo.commit('feature', { 'setops.yaml': manifests('feature') });
  repo.checkout('main');
  const pr7 = join(stateDir, 'stages/acme/shop/pr-7');
  t.teardown(async () => {
    await cli(['destroy', 'staging', '--yes', '--state-dir', stateDir]).catch(() => undefined);
    await killMentioning(stateDir);
  });

  const daemon = startCli(['daemon', '--repo', repo.dir, '--branch', 'main', '--state-dir', stateDir, '--listen', '127.0.0.1:0', '--preview-stages', 'FROM=staging', '--shutdown-timeout', '10s'], { env: { SETOPSD_WEBHOOK_SECRET: SECRET } });
  t.teardown(async () => {
    daemon.child.kill('SIGTERM');
    await daemon.done;
  });
  const info = await waitFor('daemon.json', async () => {
    const text = await readFile(join(stateDir, 'daemon.json'), 'utf8').catch(() => null);
    return text ? (JSON.parse(text) as { url: string; token: string }) : undefined;
  }, { timeoutMs: 30_000 });
  const port = Number(new URL(info.url).port);
  const hook = (action: string, state: string) => {
    const body = JSON.stringify({ action, number: 7, pull_request: { number: 7, state, head: { ref: 'feature-x', sha: head }, base: { ref: 'main' } } });
    return request(port, '/hooks/github', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` },
    });
  };

  const opened = await hook('opened', 'open');
  t.equal(opened.status, 202, opened.body);
  t.match(JSON.parse(opened.body), { preview: 'pr-7', branch: 'feature-x', open: true });
  const routerPort = async () => JSON.parse(await readFile(join(pr7, 'local/router.json'), 'utf8')).port as number;
  const answer = await waitFor('pr-7 answers on its own host', async () => {
    const r = await get(await routerPort(), '/', { host: 'web.pr-7.shop.localhost' }).catch(() => null);
    return r?.status === 200 ? r : undefined;
  }, { timeoutMs: 90_000 });
  t.match(JSON.parse(answer.body), { version: 'feature' }, 'the branch\'s manifests, not main\'s');
  // The router serves the new processes a moment before the deployment is recorded as done.
  const entry = await waitFor('deployment #1 of pr-7 finished', async () => {
    const e = JSON.parse(await readFile(join(pr7, 'journal/000001.json'), 'utf8'));
    return e.status === 'succeeded' || e.status === 'failed' ? e : undefined;
  }, { timeoutMs: 60_000 });
  t.match(entry, { trigger: 'preview', commit: head, ref: 'refs/heads/feature-x', status: 'succeeded' });
  const view = await get(port, '/api/v1/stages/acme/shop/pr-7', { headers: { authorization: `Bearer ${info.token}` } });
  t.equal(view.status, 200, view.body);
  t.match(JSON.parse(view.body), { preview: { number: 7, branch: 'feature-x', urls: { web: /^http:\/\/web\.pr-7\.shop\.localhost:\d+\/$/ } } });
  t.ok(existsSync(join(pr7, 'local')), 'the preview has its own local engine data');

  const closed = await hook('closed', 'closed');
  t.equal(closed.status, 202, closed.body);
  await waitFor('pr-7 destroyed', async () => {
    const r = JSON.parse(await readFile(join(pr7, 'status.json'), 'utf8').catch(() => '{}'));
    return r.state === 'ready' && /destroyed/.test(r.message ?? '') ? r : undefined;
  }, { timeoutMs: 60_000 });
  t.same(await processesMentioning(pr7), [], 'no process of pr-7 is left');
  const last = JSON.parse(await readFile(join(pr7, 'journal/000002.json'), 'utf8'));
  t.match(last, { kind: 'destroy', status: 'succeeded' });
  const previews = JSON.parse(await readFile(join(stateDir, 'previews.json'), 'utf8'));
  t.same(previews.open, {}, 'no open pull request remembered');
  t.same(previews.known, [], 'pr-7 forgotten once destroyed');
});
