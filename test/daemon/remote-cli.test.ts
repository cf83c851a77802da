/**
 * `setopsd daemon --repo http://…` follows a remote: it clones into the state directory, reads
 * the tracked commit, answers webhooks with SETOPSD_WEBHOOK_SECRET, and never shows the token.
 */
import t from 'tap';
import { createHmac, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readDaemonInfo } from '../../src/daemon/instance.js';
import { realClock, realSleep } from '../../src/sleep.js';
import { gitRepo } from '../helpers/git.js';
import { tempDir } from '../helpers/temp.js';
import { startGitHttpServer } from '../helpers/git-http-server.js';
import { runCli } from '../helpers/deps.js';
import { waitFor } from '../helpers/wait.js';

const ORG = 'apiVersion: setopsd/v1\nkind: Organization\nmetadata:\n  name: acme\nspec: { provider: local }\n';
const PROJECT = 'apiVersion: setopsd/v1\nkind: Project\nmetadata:\n  name: shop\n  organization: acme\n';

t.test('daemon --repo URL follows the remote; webhooks with SETOPSD_WEBHOOK_SECRET', async (t) => {
  const token = `cli-token-canary-${randomBytes(6).toString('hex')}`;
  const secret = `cli-secret-canary-${randomBytes(6).toString('hex')}`;
  const repo = gitRepo(t, { 'config/org.yaml': ORG, 'config/project.yaml': PROJECT });
  const git = await startGitHttpServer(t, { auth: { user: 'x-access-token', password: token } });
  git.addBare('shop.git', repo.dir);
  const stateDir = tempDir(t, 'setopsd-remote-cli-');
  const ac = new AbortController();
  const env = { SETOPSD_GIT_TOKEN: token, SETOPSD_WEBHOOK_SECRET: secret, SETOPSD_LOG_LEVEL: 'silent' };
  const run = runCli(['daemon', '--repo', git.repoUrl('shop.git'), '--dir', 'config', '--listen', '127.0.0.1:0', '--state-dir', stateDir], { env, clock: realClock, sleep: realSleep }, ac.signal);
  t.teardown(() => ac.abort());
  const info = await waitFor('daemon.json', async () => readDaemonInfo(stateDir), { timeoutMs: 20_000 });
  const revision = await waitFor('the first commit read', async () => {
    const body = (await (await fetch(`${info!.url}/api/v1/revision`)).json()) as { commit: string | null; source: string };
    return body.commit ? body : undefined;
  }, { timeoutMs: 20_000 });
  t.equal(revision!.commit, repo.revParse('HEAD'));
  t.equal(revision!.source, `${git.repoUrl('shop.git')} (branch main, config/)`);
  t.ok(readdirSync(join(stateDir, 'remotes')).length === 1, 'the bare clone is under the state directory');

  const body = Buffer.from(JSON.stringify({ ref: 'refs/heads/other', after: 'a'.repeat(40), repository: { full_name: 'acme/shop' } }));
  const res = await fetch(`${info!.url}/hooks/github`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` },
    body,
  });
  t.equal(res.status, 200, 'the secret from the environment verifies the webhook');
  await res.text();

  ac.abort();
  const done = await run;
  t.equal(done.code, 0);
  t.match(done.stderr, /following http:\/\/127\.0\.0\.1:\d+\/shop\.git \(branch main, config\/\)/);
  t.notMatch(done.stderr + done.stdout, token);
  t.notMatch(done.stderr + done.stdout, secret);
});

t.test('daemon --repo URL with credentials in it is refused', async (t) => {
  const stateDir = tempDir(t, 'setopsd-remote-cli-');
  const res = await runCli(['daemon', '--repo', 'https://user:hunter2@example.invalid/shop.git', '--listen', '127.0.0.1:0', '--state-dir', stateDir], { env: { SETOPSD_LOG_LEVEL: 'silent' } });
  t.not(res.code, 0);
  t.match(res.stderr, /credentials in it/);
  t.notMatch(res.stderr, 'hunter2');
});
