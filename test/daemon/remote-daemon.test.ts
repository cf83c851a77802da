/**
 * The daemon following a remote repository over a real git smart-HTTP server on 127.0.0.1:
 * the first commit is applied; a signed webhook fetches a new commit at once (no poll); refused
 * webhooks fetch nothing; GitLab's token works; a force-push and a deleted branch are reported
 * and apply nothing; the token and the webhook secret never appear in logs, answers or files.
 */
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pino } from 'pino';
import { startDaemon } from '../../src/daemon/daemon.js';
import { startHttpServer } from '../../src/daemon/http/server.js';
import { createMetrics } from '../../src/daemon/http/metrics.js';
import { readDaemonInfo } from '../../src/daemon/instance.js';
import { remoteSource } from '../../src/daemon/sources/remote.js';
import { StatusRecords } from '../../src/state/status-record.js';
import { realClock, realSleep } from '../../src/sleep.js';
import { gitEnv, gitRepo } from '../helpers/git.js';
import { tempDir } from '../helpers/temp.js';
import { startGitHttpServer } from '../helpers/git-http-server.js';
import { testDeps } from '../helpers/deps.js';
import { fakeEngine } from '../operations/apply-fakes.js';
import { waitFor } from '../helpers/wait.js';
import { manifests } from './helpers.js';
import { promtoolCheck } from './http/promtool.js';

const TOKEN = `git-token-canary-${randomBytes(6).toString('hex')}`;
const SECRET = `webhook-secret-canary-${randomBytes(6).toString('hex')}`;

type Definition = { name: string; examples: Record<string, any>[] };
const definitions = createRequire(import.meta.url)('@octokit/webhooks-examples') as Definition[];
const githubPush = (over: Record<string, unknown> = {}) =>
  Buffer.from(JSON.stringify({ ...definitions.find((d) => d.name === 'push')!.examples[0], ref: 'refs/heads/main', ...over }));
const gitlabPush = (over: Record<string, unknown> = {}) =>
  Buffer.from(JSON.stringify({ ...JSON.parse(readFileSync(new URL('../fixtures/webhooks/gitlab-push-hook.json', import.meta.url), 'utf8')), ref: 'refs/heads/main', ...over }));
const sign = (body: Buffer, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

async function setup(t: Test, opts: { webhookSecret?: string; pollMs?: number } = { webhookSecret: SECRET }) {
  const repo = gitRepo(t, manifests({ greeting: 'one', productionApproval: 'auto' }));
  const git = await startGitHttpServer(t, { auth: { user: 'x-access-token', password: TOKEN } });
  const bare = git.addBare('shop.git', repo.dir);
  const push = (...args: string[]) => repo.git('push', '--quiet', ...args, bare, 'main');
  const inBare = (...args: string[]) => execFileSync('git', args, { cwd: bare, env: gitEnv(tempDir(t)), encoding: 'utf8', stdio: 'pipe' }).trim();
  const stateDir = tempDir(t, 'setopsd-remote-daemon-');
  const engine = fakeEngine();
  let logs = '';
  const log = pino({ level: 'debug' }, { write: (s: string) => void (logs += s) });
  const deps = testDeps({ clock: realClock, sleep: realSleep, log, env: { SETOPSD_GIT_TOKEN: TOKEN } });
  // A start: a new source (as a restarted daemon makes) on the same state directory and engine.
  const start = async (signal: AbortSignal) => {
    const metrics = createMetrics({ defaultMetrics: false });
    const source = remoteSource({ url: git.repoUrl('shop.git'), branch: 'main', dir: 'config', stateDir, env: deps.env });
    const daemon = await startDaemon(
      deps,
      {
        stateDir,
        source,
        pollMs: opts.pollMs ?? 0,
        pollJitter: 0.1,
        concurrency: 4,
        shutdownTimeoutMs: 5_000,
        engineFactory: async () => engine,
        metrics,
        ...(opts.webhookSecret ? { webhookSecret: opts.webhookSecret } : {}),
        listen: (view, token) => startHttpServer({ view, listen: { host: '127.0.0.1', port: 0 }, token, log: deps.log, metrics: metrics.registry }),
      },
      signal,
    );
    return { daemon, metrics, source };
  };
  let ac = new AbortController();
  let running = await start(ac.signal);
  const stop = async () => {
    ac.abort(new Error('test done'));
    await running.daemon.stopped;
  };
  t.teardown(stop);
  /** Stops the daemon and starts a new one on the same state directory. */
  const restart = async () => {
    await stop();
    ac = new AbortController();
    running = await start(ac.signal);
  };
  const answers: string[] = [];
  const records = new StatusRecords(stateDir, () => Date.now());
  const record = (stage: string) => records.read({ organization: 'acme', project: 'shop', stage });
  const hook = async (provider: 'github' | 'gitlab', body: Buffer | string, headers: Record<string, string>) => {
    const res = await fetch(`${running.daemon.url}/hooks/${provider}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const text = await res.text();
    answers.push(text);
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const api = async (method: string, path: string) => {
    const info = await readDaemonInfo(stateDir);
    const res = await fetch(new URL(path, info!.url), { method, headers: { authorization: `Bearer ${info!.token}`, 'content-type': 'application/json' } });
    const text = await res.text();
    answers.push(text);
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const github = (body: Buffer, headers: Record<string, string> = {}) =>
    hook('github', body, { 'x-github-event': 'push', 'x-github-delivery': 'd-1', 'x-hub-signature-256': sign(body), ...headers });
  return {
    repo, git, bare, push, inBare, stateDir, engine, record, hook, github, api, logs: () => logs, answers, restart,
    get daemon() { return running.daemon; },
    get metrics() { return running.metrics; },
    get source() { return running.source; },
  };
}

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Sends a POST that declares a body of `length` bytes but sends only a little of it; resolves to the status. */
function declaredPost(url: string, length: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(length), 'x-github-event': 'push' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.write('{"ref":');
  });
}

/** Sends a chunked POST (no Content-Length) of `length` bytes, as fast as the server takes it; resolves to the status. */
function streamedPost(url: string, length: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-gitlab-event': 'Push Hook' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    let sent = 0;
    const more = () => {
      while (sent < length) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', more);
      }
      req.end();
    };
    more();
  });
}

t.test('first commit applied; a push + a signed GitHub webhook is fetched at once and applied', async (t) => {
  const d = await setup(t);
  const c1 = d.repo.revParse('HEAD');
  await waitFor('production at c1', async () => (await d.record('production'))?.lastAppliedRevision === c1, { timeoutMs: 20_000 });
  t.equal((await d.record('staging'))?.lastAppliedRevision, c1, 'staging at the first commit');
  t.match(d.daemon.view.source, /^http:\/\/127\.0\.0\.1:\d+\/shop\.git \(branch main, config\/\)$/);

  const c2 = d.repo.commit('greeting two', manifests({ greeting: 'two', productionApproval: 'auto' }));
  d.push();
  const before = d.git.requests();
  const res = await d.github(githubPush({ after: c2 }));
  t.equal(res.status, 202, JSON.stringify(res.body));
  await waitFor('staging at c2', async () => (await d.record('staging'))?.lastAppliedRevision === c2, { timeoutMs: 20_000 });
  t.ok(d.git.requests() > before, 'the webhook fetched');
  t.match(await d.metrics.registry.metrics(), /setopsd_webhook_deliveries_total\{provider="github",result="accepted"\} 1/);

  const revision = await d.api('GET', '/api/v1/revision');
  t.equal(revision.body.commit, c2);
  t.notOk(revision.body.error, 'no source error');
  t.ok(d.git.log.some((r) => r.user === 'x-access-token'), 'the token was sent');

  for (const text of [d.logs(), ...d.answers, ...filesUnder(d.stateDir).map((f) => readFileSync(f, 'latin1'))]) {
    if (text.includes(TOKEN) || text.includes(SECRET)) t.fail(`a canary leaked: ${text.slice(0, 200)}`);
  }
  t.ok(filesUnder(d.stateDir).some((f) => f.includes(`${join('remotes', '')}`)), 'the bare clone is under the state directory');
});

t.test('refused webhooks answer 401/401/413/400 and fetch nothing; other branches, tags and ping are ignored', async (t) => {
  const d = await setup(t);
  const c1 = d.repo.revParse('HEAD');
  await waitFor('converged', async () => (await d.record('production'))?.lastAppliedRevision === c1, { timeoutMs: 20_000 });
  d.repo.commit('greeting two', manifests({ greeting: 'two', productionApproval: 'auto' }));
  d.push();
  const before = d.git.requests();
  const body = githubPush();

  const unsigned = await d.hook('github', body, { 'x-github-event': 'push' });
  t.equal(unsigned.status, 401, 'unsigned');
  t.equal(unsigned.body.error.code, 'E_WEBHOOK_UNSIGNED');
  const wrong = await d.github(body, { 'x-hub-signature-256': sign(body, 'another-secret') });
  t.equal(wrong.status, 401, 'wrongly signed');
  t.equal(wrong.body.error.code, 'E_WEBHOOK_SIGNATURE');
  t.equal(await declaredPost(`${d.daemon.url}/hooks/github`, 26 * 1024 * 1024), 413, 'oversized (declared)');
  t.equal(await streamedPost(`${d.daemon.url}/hooks/gitlab`, 26 * 1024 * 1024), 413, 'oversized (chunked, no length declared)');
  const malformedBody = Buffer.from('{"ref": "refs/heads/main", not json');
  const malformed = await d.github(malformedBody);
  t.equal(malformed.status, 400, 'malformed');
  t.equal(malformed.body.error.code, 'E_WEBHOOK_MALFORMED');
  const badToken = await d.hook('gitlab', gitlabPush(), { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'nope' });
  t.equal(badToken.status, 401, 'GitLab with a wrong token');

  const other = await d.github(githubPush({ ref: 'refs/heads/feature' }));
  t.equal(other.status, 200, 'a push to another branch is ignored');
  t.match(other.body.ignored, /refs\/heads\/feature/);
  const tag = await d.github(githubPush({ ref: 'refs/tags/v1' }));
  t.equal(tag.status, 200, 'a tag push is ignored');
  const pingBody = Buffer.from(JSON.stringify(definitions.find((x) => x.name === 'ping')!.examples[0]));
  const ping = await d.github(pingBody, { 'x-github-event': 'ping' });
  t.equal(ping.status, 200, 'ping');

  t.equal(d.git.requests(), before, 'nothing was fetched');
  const m = await d.metrics.registry.metrics();
  t.match(m, /provider="github",result="unsigned"\} 1/);
  t.match(m, /provider="github",result="bad-signature"\} 1/);
  t.match(m, /provider="github",result="malformed"\} 1/);
  t.match(m, /provider="gitlab",result="bad-signature"\} 1/);
  t.match(m, /provider="github",result="ignored"\} 2/);
  t.match(m, /provider="github",result="ping"\} 1/);
  t.match(m, /provider="github",result="too-large"\} 1/, 'a body refused while it was read is counted');
  t.match(m, /provider="gitlab",result="too-large"\} 1/);
  const exposed = await (await fetch(`${d.daemon.url}/metrics`)).text();
  t.equal(exposed, m, '/metrics over HTTP says the same');
  const checked = await promtoolCheck(exposed);
  t.equal(checked.code, 0, checked.output);
  for (const text of [d.logs(), ...d.answers]) {
    if (text.includes(SECRET) || text.includes(TOKEN)) t.fail(`a canary leaked: ${text.slice(0, 200)}`);
  }
});

t.test('without a webhook secret the hooks answer 404 and fetch nothing', async (t) => {
  const d = await setup(t, {});
  await waitFor('converged', async () => (await d.record('staging'))?.state === 'ready', { timeoutMs: 20_000 });
  const before = d.git.requests();
  const res = await d.github(githubPush());
  t.equal(res.status, 404);
  t.match(res.body.error.message, /SETOPSD_WEBHOOK_SECRET/);
  t.equal(d.git.requests(), before);
});

t.test('a GitLab push hook with the right X-Gitlab-Token fetches at once', async (t) => {
  const d = await setup(t);
  const c1 = d.repo.revParse('HEAD');
  await waitFor('staging at c1', async () => (await d.record('staging'))?.lastAppliedRevision === c1, { timeoutMs: 20_000 });
  const c2 = d.repo.commit('greeting two', manifests({ greeting: 'two', productionApproval: 'auto' }));
  d.push();
  const res = await d.hook('gitlab', gitlabPush({ after: c2 }), { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': SECRET });
  t.equal(res.status, 202, JSON.stringify(res.body));
  await waitFor('staging at c2', async () => (await d.record('staging'))?.lastAppliedRevision === c2, { timeoutMs: 20_000 });
  t.match(await d.metrics.registry.metrics(), /provider="gitlab",result="accepted"\} 1/);
});

t.test('a force-push is reported and applies nothing until an explicit sync accepts it', async (t) => {
  const d = await setup(t);
  const c1 = d.repo.revParse('HEAD');
  await waitFor('production at c1', async () => (await d.record('production'))?.lastAppliedRevision === c1, { timeoutMs: 20_000 });
  const c2 = d.repo.commit('greeting two', manifests({ greeting: 'two', productionApproval: 'auto' }));
  d.push();
  // An explicit sync with nothing refused does not accept a later force-push in advance.
  t.equal((await d.api('POST', '/api/v1/sync')).status, 200);
  await waitFor('production at c2', async () => (await d.record('production'))?.lastAppliedRevision === c2, { timeoutMs: 20_000 });
  const calls = d.engine.calls.length;

  d.repo.git('reset', '--quiet', '--hard', c1);
  const forced = d.repo.commit('rewritten', manifests({ greeting: 'rewritten', productionApproval: 'auto' }));
  d.push('--force');
  t.equal((await d.github(githubPush({ after: forced, forced: true }))).status, 202);
  const revision = await waitFor('the force-push reported', async () => {
    const r = await d.api('GET', '/api/v1/revision');
    return r.body.error?.code === 'E_GIT_FORCE_PUSHED' ? r.body : undefined;
  }, { timeoutMs: 20_000 });
  t.match(revision.error.message, new RegExp(`${c2.slice(0, 12)}.*${forced.slice(0, 12)}`), 'names the old and the new commit');
  t.equal(revision.commit, c2, 'the previous snapshot stays');
  t.equal(d.daemon.view.revision().error?.code, 'E_GIT_FORCE_PUSHED');

  // A webhook (or a poll) does not accept it.
  t.equal((await d.github(githubPush({ after: forced }))).status, 202);
  await d.daemon.view.sync();
  t.equal(d.daemon.view.revision().error?.code, 'E_GIT_FORCE_PUSHED', 'still refused');
  t.equal(d.engine.calls.length, calls, 'nothing applied');
  t.equal((await d.record('staging'))?.lastAppliedRevision, c2);

  // `setopsd sync` accepts it.
  const synced = await d.api('POST', '/api/v1/sync');
  t.equal(synced.status, 200);
  await waitFor('production at the forced head', async () => (await d.record('production'))?.lastAppliedRevision === forced, { timeoutMs: 20_000 });
  t.notOk(d.daemon.view.revision().error, 'no error any more');
});

t.test('the accepted commit survives a restart: a force-push refused before it stays refused, one accepted is not refused again', async (t) => {
  const d = await setup(t);
  const c1 = d.repo.revParse('HEAD');
  await waitFor('production at c1', async () => (await d.record('production'))?.lastAppliedRevision === c1, { timeoutMs: 20_000 });
  const accepted = () => readFileSync(join(filesUnder(d.stateDir).find((f) => f.endsWith(join('refs', 'setopsd', 'accepted')))!), 'utf8').trim();
  t.equal(accepted(), c1, 'the accepted commit is kept in the clone under the state directory');

  const forced = d.repo.git('commit-tree', '-m', 'rewritten', `${c1}^{tree}`); // no parent: history rewritten
  d.repo.git('reset', '--quiet', '--hard', forced);
  d.repo.commit('rewritten', manifests({ greeting: 'rewritten', productionApproval: 'auto' }));
  const head = d.repo.revParse('HEAD');
  d.push('--force');
  await d.daemon.view.sync();
  t.equal(d.daemon.view.revision().error?.code, 'E_GIT_FORCE_PUSHED', 'refused');
  const calls = d.engine.calls.length;

  await d.restart();
  await waitFor('the restarted daemon read the source', async () => (d.daemon.view.revision().error ? true : undefined), { timeoutMs: 20_000 });
  t.equal(d.daemon.view.revision().error?.code, 'E_GIT_FORCE_PUSHED', 'the restarted daemon still refuses the force-push');
  t.match(d.daemon.view.revision().error?.message, new RegExp(`${c1.slice(0, 12)}.*${head.slice(0, 12)}`), 'naming the accepted and the new commit');
  t.equal(d.engine.calls.length, calls, 'nothing applied');
  t.equal(accepted(), c1);

  t.equal((await d.api('POST', '/api/v1/sync')).status, 200, '`setopsd sync` accepts it');
  await waitFor('production at the forced head', async () => (await d.record('production'))?.lastAppliedRevision === head, { timeoutMs: 20_000 });
  t.equal(accepted(), head, 'the accepted commit is now the rewritten head');

  await d.restart();
  const c3 = d.repo.commit('greeting three', manifests({ greeting: 'three', productionApproval: 'auto' }));
  d.push();
  t.equal((await d.github(githubPush({ after: c3 }))).status, 202);
  await waitFor('production at c3 after the second restart', async () => (await d.record('production'))?.lastAppliedRevision === c3, { timeoutMs: 20_000 });
  t.notOk(d.daemon.view.revision().error, 'the rewritten history is not treated as forced again');
});

t.test('a deleted branch is reported and applies nothing', async (t) => {
  const d = await setup(t);
  const c1 = d.repo.revParse('HEAD');
  await waitFor('converged', async () => (await d.record('production'))?.lastAppliedRevision === c1, { timeoutMs: 20_000 });
  const calls = d.engine.calls.length;
  d.inBare('update-ref', '-d', 'refs/heads/main');
  const res = await d.github(githubPush({ after: '0'.repeat(40), deleted: true }));
  t.equal(res.status, 202, 'a deletion of the tracked branch triggers a read');
  const revision = await waitFor('the deleted branch reported', async () => {
    const r = await d.api('GET', '/api/v1/revision');
    return r.body.error?.code === 'E_GIT_BRANCH_MISSING' ? r.body : undefined;
  }, { timeoutMs: 20_000 });
  t.match(revision.error.message, /branch main does not exist/);
  t.equal(revision.commit, c1, 'the previous snapshot stays');
  t.equal(d.engine.calls.length, calls, 'nothing applied');
  t.equal((await d.record('staging'))?.state, 'ready');
  for (const text of [d.logs(), ...d.answers, ...filesUnder(d.stateDir).map((f) => readFileSync(f, 'latin1'))]) {
    if (text.includes(TOKEN) || text.includes(SECRET)) t.fail(`a canary leaked: ${text.slice(0, 200)}`);
  }
});

t.test('with --poll, a pushed commit is picked up without a webhook (jittered poll timer)', async (t) => {
  const d = await setup(t, { pollMs: 150 });
  const c1 = d.repo.revParse('HEAD');
  await waitFor('staging at c1', async () => (await d.record('staging'))?.lastAppliedRevision === c1, { timeoutMs: 20_000 });
  const c2 = d.repo.commit('greeting two', manifests({ greeting: 'two', productionApproval: 'auto' }));
  d.push();
  await waitFor('staging at c2 by polling', async () => (await d.record('staging'))?.lastAppliedRevision === c2, { timeoutMs: 20_000 });
  const before = d.git.requests();
  await waitFor('polling goes on', () => d.git.requests() > before, { timeoutMs: 20_000 });
  t.pass('polled');
});
