/**
 * Pull requests of a remote repository, over a real git smart-HTTP server on 127.0.0.1:
 * `--comment-prs` fetches each pull request's head — GitHub's `refs/pull/N/head`, which a pull
 * request from a fork has too, else its branch — and posts the plan comment through the real
 * @octokit/rest client to a local stand-in of the GitHub API; `--preview-stages` runs a preview
 * from a branch of the remote. Neither moves the tracked branch. A preview whose branch cannot be
 * fetched for a while keeps running (also across a restart); a branch deleted on the remote ends
 * its preview.
 */
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { pino } from 'pino';
import { startDaemon } from '../../src/daemon/daemon.js';
import { startHttpServer } from '../../src/daemon/http/server.js';
import { createMetrics } from '../../src/daemon/http/metrics.js';
import { remoteSource } from '../../src/daemon/sources/remote.js';
import { remoteDir } from '../../src/daemon/remote-source.js';
import { Previews } from '../../src/daemon/previews.js';
import nodeHttp from 'isomorphic-git/http/node';
import type { ConfigSource } from '../../src/daemon/sources/source.js';
import { SetopsError } from '../../src/errors.js';
import { StatusRecords } from '../../src/state/status-record.js';
import { StateStore } from '../../src/state/store.js';
import { realClock, realSleep } from '../../src/sleep.js';
import { gitEnv, gitRepo } from '../helpers/git.js';
import { tempDir } from '../helpers/temp.js';
import { startGitHttpServer } from '../helpers/git-http-server.js';
import { fakeForge } from '../helpers/fake-forge.js';
import { testDeps } from '../helpers/deps.js';
import { fakeEngine } from '../operations/apply-fakes.js';
import { waitFor } from '../helpers/wait.js';
import { manifests } from './helpers.js';

const GIT_TOKEN = `git-token-canary-${randomBytes(6).toString('hex')}`;
const FORGE_TOKEN = `ghs_forgeCANARY${randomBytes(6).toString('hex')}`;
const SECRET = `webhook-secret-canary-${randomBytes(6).toString('hex')}`;

type Definition = { name: string; examples: Record<string, any>[] };
const definitions = createRequire(import.meta.url)('@octokit/webhooks-examples') as Definition[];
const opened = definitions.find((d) => d.name === 'pull_request')!.examples.find((e) => e.action === 'opened')!;
const push = definitions.find((d) => d.name === 'push')!.examples[0]!;

function recordingEngine(stateDir: string) {
  const engine = fakeEngine();
  const store = new StateStore(stateDir);
  const apply = engine.apply.bind(engine);
  const destroy = engine.destroy.bind(engine);
  engine.apply = async (desired, changes, io) => {
    const result = await apply(desired, changes, io);
    if (result.status === 'succeeded') await store.write(changes.ref, desired);
    return result;
  };
  engine.destroy = async (ref, io) => {
    const result = await destroy(ref, io);
    if (result.status === 'succeeded') await store.write(ref, null);
    return result;
  };
  return engine;
}

interface Setup {
  commentPrs?: boolean;
  previews?: boolean;
  /** Wraps the remote source (to make its fetches fail for a while). */
  wrap?: (source: ConfigSource) => ConfigSource;
}

async function setup(t: Test, opts: Setup) {
  const repo = gitRepo(t, manifests({ greeting: 'one', productionApproval: 'auto' }));
  const git = await startGitHttpServer(t, { auth: { user: 'x-access-token', password: GIT_TOKEN } });
  const bare = git.addBare('shop.git', repo.dir);
  const inBare = (...args: string[]) => execFileSync('git', args, { cwd: bare, env: gitEnv(tempDir(t)), encoding: 'utf8', stdio: 'pipe' }).trim();
  const forge = await fakeForge(t, { token: FORGE_TOKEN });
  const stateDir = tempDir(t, 'setopsd-remote-prs-');
  // In memory, and recorded in the state directory as the real engines record every stage (the
  // daemon finds stages to remove there).
  const engine = recordingEngine(stateDir);
  let logs = '';
  const log = pino({ level: 'debug' }, { write: (s: string) => void (logs += s) });
  const deps = testDeps({ clock: realClock, sleep: realSleep, log, env: { SETOPSD_GIT_TOKEN: GIT_TOKEN, GITHUB_TOKEN: FORGE_TOKEN, GITHUB_API_URL: forge.url } });
  const start = async (signal: AbortSignal) => {
    const metrics = createMetrics({ defaultMetrics: false });
    const remote = remoteSource({ url: git.repoUrl('shop.git'), branch: 'main', dir: 'config', stateDir, env: deps.env });
    const source = opts.wrap ? opts.wrap(remote) : remote;
    return startDaemon(
      deps,
      {
        stateDir,
        source,
        pollMs: 0,
        concurrency: 4,
        shutdownTimeoutMs: 5_000,
        engineFactory: async () => engine,
        metrics,
        webhookSecret: SECRET,
        ...(opts.commentPrs ? { commentPrs: true } : {}),
        ...(opts.previews ? { previews: { from: 'staging' } } : {}),
        listen: (view, token) => startHttpServer({ view, listen: { host: '127.0.0.1', port: 0 }, token, log: deps.log, metrics: metrics.registry }),
      },
      signal,
    );
  };
  let ac = new AbortController();
  let daemon = await start(ac.signal);
  const stop = async () => {
    ac.abort(new Error('test done'));
    await daemon.stopped;
  };
  t.teardown(stop);
  const restart = async () => {
    await stop();
    ac = new AbortController();
    daemon = await start(ac.signal);
  };
  const records = new StatusRecords(stateDir, () => Date.now());
  const record = (stage: string) => records.read({ organization: 'acme', project: 'shop', stage });
  const post = async (event: string, payload: unknown) => {
    const body = JSON.stringify(payload);
    const res = await fetch(`${daemon.url}/hooks/github`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` },
      body,
    });
    return { status: res.status, body: await res.text() };
  };
  /** A signed pull_request webhook for #number from `branch` at `sha` into main. */
  const pullRequest = (action: string, number: number, branch: string, sha: string, state = 'open') => {
    const payload = structuredClone(opened);
    payload.action = action;
    payload.number = number;
    Object.assign(payload.pull_request, { number, state, head: { ...payload.pull_request.head, ref: branch, sha }, base: { ...payload.pull_request.base, ref: 'main', sha: repo.revParse('main') } });
    payload.repository.full_name = 'acme/shop';
    return post('pull_request', payload);
  };
  /** A signed push webhook for main (the daemon fetches and syncs at once). */
  const pushed = () => post('push', { ...structuredClone(push), ref: 'refs/heads/main', after: repo.revParse('main') });
  return { repo, bare, inBare, forge, engine, stateDir, record, pullRequest, pushed, restart, logs: () => logs };
}

t.test('--comment-prs with a remote: a branch and a fork pull request (refs/pull/N/head) get their plan; the tracked branch does not move', async (t) => {
  const s = await setup(t, { commentPrs: true });
  await waitFor('staging applied', async () => (await s.record('staging'))?.state === 'ready');
  const main = s.repo.revParse('main');

  // A pull request from a branch of the repository itself.
  s.repo.branch('feature-x');
  s.repo.checkout('feature-x');
  const head1 = s.repo.commit('scale web', manifests({ greeting: 'one', productionApproval: 'auto', scale: 2 }));
  s.repo.git('push', '--quiet', s.bare, 'feature-x');
  const r1 = await s.pullRequest('opened', 12, 'feature-x', head1);
  t.equal(r1.status, 202, r1.body);
  const [first] = await waitFor('the comment on #12', () => (s.forge.on('acme/shop#12').length === 1 ? s.forge.on('acme/shop#12') : null));
  t.match(first!.body, /! ~ app\/web scale: 1 → 2/);
  t.match(first!.body, /the daemon applies main/);
  await waitFor('its status', () => s.forge.statuses.some((x) => x.sha === head1));

  // A pull request from a fork: its head exists on the remote only as refs/pull/13/head, and its
  // branch is called main, like the tracked one: the plan must be of the fork's commit.
  s.repo.checkout('main');
  s.repo.branch('fork-work');
  s.repo.checkout('fork-work');
  const head2 = s.repo.commit('fork: scale web to 3', manifests({ greeting: 'one', productionApproval: 'auto', scale: 3 }));
  s.repo.git('push', '--quiet', s.bare, `${head2}:refs/pull/13/head`);
  s.repo.checkout('main');
  const r2 = await s.pullRequest('opened', 13, 'main', head2);
  t.equal(r2.status, 202, r2.body);
  const [fork] = await waitFor('the comment on #13', () => (s.forge.on('acme/shop#13').length === 1 ? s.forge.on('acme/shop#13') : null));
  t.match(fork!.body, /! ~ app\/web scale: 1 → 3/, 'the fork head, not the branch main');
  await waitFor('its status', () => s.forge.statuses.some((x) => x.sha === head2));

  // Nothing of the pull requests is applied (the clone's refs: the source-level test below).
  t.notOk(s.engine.calls.some((c) => !c.startsWith('apply acme/shop/staging') && !c.startsWith('apply acme/shop/production')), `only the main branch's stages are applied: ${s.engine.calls.join(', ')}`);
  t.equal((await s.record('staging'))?.lastAppliedRevision, main);
  t.notOk(s.logs().includes(GIT_TOKEN) || s.logs().includes(FORGE_TOKEN), 'no token in the logs');
});

t.test('--comment-prs with a remote: a pull request whose head is nowhere on the remote is a clear warning', async (t) => {
  const s = await setup(t, { commentPrs: true });
  await waitFor('staging applied', async () => (await s.record('staging'))?.state === 'ready');
  const r = await s.pullRequest('opened', 21, 'never-pushed', 'f'.repeat(40));
  t.equal(r.status, 202, r.body);
  await waitFor('the warning', () => s.logs().includes('pull request #21: the plan comment failed'));
  t.match(s.logs(), /neither refs\/pull\/21\/head nor branch never-pushed exists on the remote/);
  t.equal(s.forge.on('acme/shop#21').length, 0);
});

t.test('--preview-stages with a remote: a preview from its branch; a failing fetch keeps it, also across a restart; a deleted branch ends it', async (t) => {
  let failing = false;
  const wrap = (source: ConfigSource): ConfigSource => ({
    ...source,
    read: (signal) => source.read(signal),
    readBranch: (branch, signal) =>
      failing ? Promise.reject(new SetopsError(`remote: cannot reach the server (ECONNRESET); the fetch is retried`, { code: 'E_GIT_FETCH' })) : source.readBranch!(branch, signal),
  });
  const s = await setup(t, { previews: true, wrap });
  await waitFor('staging applied', async () => (await s.record('staging'))?.state === 'ready');

  s.repo.branch('feature-7');
  s.repo.checkout('feature-7');
  const head = s.repo.commit('preview greeting', manifests({ greeting: 'seven', productionApproval: 'auto' }));
  s.repo.git('push', '--quiet', s.bare, 'feature-7');
  s.repo.checkout('main');
  t.equal((await s.pullRequest('opened', 7, 'feature-7', head)).status, 202);
  await waitFor('pr-7 applied', async () => (await s.record('pr-7'))?.state === 'ready');
  t.match(s.engine.states.get('acme/shop/pr-7')?.model, { stage: { name: 'pr-7' }, apps: { web: { env: { GREETING: 'seven' } } } });

  // The remote cannot be read for the preview's branch: a new main commit syncs, pr-7 stays.
  failing = true;
  s.repo.commit('main moves on', manifests({ greeting: 'two', productionApproval: 'auto' }));
  s.repo.git('push', '--quiet', s.bare, 'main');
  t.equal((await s.pushed()).status, 202);
  await waitFor('main applied', async () => (await s.record('staging'))?.lastAppliedRevision === s.repo.revParse('main'));
  await waitFor('the warning', () => s.logs().includes('it keeps running as last read until the branch can be read'));
  t.notOk(s.engine.calls.includes('destroy acme/shop/pr-7'), 'not destroyed');

  // A restart while the branch still cannot be read: nothing read of it yet, still not destroyed.
  await s.restart();
  await waitFor('the restarted daemon synced', async () => s.logs().includes('it is left as it is until the branch can be read'));
  await waitFor('staging reconciled again', async () => (await s.record('staging'))?.state === 'ready');
  await new Promise((r) => setTimeout(r, 300));
  t.notOk(s.engine.calls.includes('destroy acme/shop/pr-7'), 'not destroyed after the restart');
  t.ok(s.engine.states.get('acme/shop/pr-7')?.model, 'pr-7 still deployed');

  // The branch is deleted on the remote: that ends the preview.
  failing = false;
  s.inBare('update-ref', '-d', 'refs/heads/feature-7');
  t.equal((await s.pushed()).status, 202);
  await waitFor('pr-7 destroyed', () => s.engine.calls.includes('destroy acme/shop/pr-7'));
  t.match(s.logs(), /branch feature-7 does not exist on the remote \(deleted, or never pushed\)/);
});

t.test('a remote source lists the remote branches and reads others without moving the tracked branch', async (t) => {
  const repo = gitRepo(t, manifests({ greeting: 'one' }));
  const git = await startGitHttpServer(t, { auth: { user: 'x-access-token', password: GIT_TOKEN } });
  const bare = git.addBare('shop.git', repo.dir);
  const stateDir = tempDir(t, 'setopsd-remote-branches-');
  const url = git.repoUrl('shop.git');
  const source = remoteSource({ url, branch: 'main', dir: 'config', stateDir, env: { SETOPSD_GIT_TOKEN: GIT_TOKEN } });
  const clone = remoteDir(stateDir, url, 'main');
  const inClone = (...args: string[]) => execFileSync('git', args, { cwd: clone, env: gitEnv(tempDir(t)), encoding: 'utf8', stdio: 'pipe' }).trim();
  const signal = new AbortController().signal;
  const first = await source.read(signal);
  repo.branch('pr/5');
  repo.checkout('pr/5');
  const c5 = repo.commit('pr 5', manifests({ greeting: 'five' }));
  repo.git('push', '--quiet', bare, 'pr/5');
  repo.checkout('main');
  repo.branch('feature');
  repo.git('push', '--quiet', bare, 'feature');
  t.same(await source.branches!(), ['feature', 'main', 'pr/5']);
  const files = await source.readBranch!('pr/5', signal);
  t.equal(files.commit, c5);
  t.match(files.files.map((f) => f.text).join('\n'), /five/);

  // main moves on the remote; reading it as "another branch" (a GitLab base) leaves the
  // tracked branch's refs where the last read of it put them.
  const c2 = repo.commit('main two', manifests({ greeting: 'two' }));
  repo.git('push', '--quiet', bare, 'main');
  t.equal((await source.readBranch!('main', signal)).commit, c2);
  t.equal(inClone('rev-parse', 'refs/remotes/origin/main'), first.commit, 'the remote-tracking ref did not move');
  t.equal(inClone('rev-parse', 'refs/setopsd/accepted'), first.commit, 'nor the accepted commit');
  t.equal(inClone('for-each-ref', '--format=%(refname)'), ['refs/remotes/origin/main', 'refs/setopsd/accepted'].join('\n'), 'no other ref written');
  t.equal((await source.read(signal)).commit, c2, 'the tracked branch reads the new head');

  // Pull request refs: GitLab's, and a fork's, which never falls back to a branch of its name.
  const c4 = repo.commit('mr 4', manifests({ greeting: 'four' }));
  repo.git('push', '--quiet', bare, `${c4}:refs/merge-requests/4/head`);
  t.equal((await source.readPullRequest!({ provider: 'gitlab', number: 4, branch: 'topic' }, signal)).commit, c4);
  await t.rejects(source.readPullRequest!({ provider: 'github', number: 5, branch: 'main', fromFork: true }, signal), {
    code: 'E_GIT_BRANCH_MISSING',
    message: /refs\/pull\/5\/head does not exist on the remote \(the pull request comes from a fork, so a branch main here is not its code\)/,
  });
  t.equal((await source.readPullRequest!({ provider: 'github', number: 5, branch: 'pr/5' }, signal)).commit, c5, 'a server without pull request refs: the branch');

  await t.rejects(source.readBranch!('gone', signal), { code: 'E_GIT_BRANCH_MISSING', message: /branch gone does not exist on the remote \(deleted, or never pushed\)/ });
  await t.rejects(source.readBranch!('../main', signal), { code: 'E_GIT_BRANCH_MISSING' }, 'not a branch name: nothing fetched');
});

t.test('previews of a remote whose server fails (HTTP 503): held as last read, and after a restart left as deployed', async (t) => {
  const repo = gitRepo(t, manifests({ greeting: 'one' }));
  const git = await startGitHttpServer(t, { auth: { user: 'x-access-token', password: GIT_TOKEN } });
  const bare = git.addBare('shop.git', repo.dir);
  repo.branch('feature-7');
  repo.checkout('feature-7');
  repo.commit('seven', manifests({ greeting: 'seven' }));
  repo.git('push', '--quiet', bare, 'feature-7');
  repo.checkout('main');
  const stateDir = tempDir(t, 'setopsd-remote-previews-');
  let failing = false;
  const http = {
    request: async (req: Parameters<typeof nodeHttp.request>[0]) =>
      failing ? { url: req.url, method: req.method ?? 'GET', statusCode: 503, statusMessage: 'Service Unavailable', headers: {}, body: (async function* () {})() } : nodeHttp.request(req),
  };
  const source = () => remoteSource({ url: git.repoUrl('shop.git'), branch: 'main', dir: 'config', stateDir, env: { SETOPSD_GIT_TOKEN: GIT_TOKEN }, http });
  const signal = new AbortController().signal;
  const log = pino({ level: 'silent' });
  const opened = { kind: 'pull-request', provider: 'github', number: 7, branch: 'feature-7', action: 'opened', open: true } as const;
  const previews = new Previews(stateDir, source(), { from: 'staging' }, { log });
  await previews.pullRequest(opened);
  const [read] = await previews.stages(signal);
  t.match(read, { key: 'acme/shop/pr-7', branch: 'feature-7' });
  failing = true;
  await t.rejects(source().readBranch!('feature-7', signal), { code: 'E_GIT_FETCH', retryable: true, message: /HTTP 503; it is tried again on the next sync/ });
  t.same(await previews.stages(signal), [read], 'held as last read');
  t.same([...previews.unreadable()], []);
  const restarted = new Previews(stateDir, source(), { from: 'staging' }, { log });
  await restarted.load();
  t.same(await restarted.stages(signal), []);
  t.same([...restarted.unreadable()], [['acme/shop/pr-7', { number: 7, branch: 'feature-7' }]], 'left as deployed: the controller neither reconciles nor destroys it');
  failing = false;
  t.match(await restarted.stages(signal), [{ key: 'acme/shop/pr-7' }]);
  t.same([...restarted.unreadable()], []);
});

t.test('a pull request that is more to fetch than the limit is refused without holding up the tracked branch', async (t) => {
  const repo = gitRepo(t, manifests({ greeting: 'one' }));
  const git = await startGitHttpServer(t, { auth: { user: 'x-access-token', password: GIT_TOKEN } });
  const bare = git.addBare('shop.git', repo.dir);
  const stateDir = tempDir(t, 'setopsd-remote-large-');
  const source = remoteSource({ url: git.repoUrl('shop.git'), branch: 'main', dir: 'config', stateDir, env: { SETOPSD_GIT_TOKEN: GIT_TOKEN }, otherFetchMaxBytes: 64 * 1024 });
  const signal = new AbortController().signal;
  await source.read(signal);
  repo.branch('huge');
  repo.checkout('huge');
  const huge = repo.commit('a large file', { 'config/blob.bin': randomBytes(512 * 1024) });
  repo.git('push', '--quiet', bare, `${huge}:refs/pull/9/head`);
  repo.checkout('main');
  await t.rejects(source.readPullRequest!({ provider: 'github', number: 9, branch: 'huge' }, signal), {
    code: 'E_GIT_TOO_LARGE',
    retryable: false,
    message: /refs\/pull\/9\/head is more than 64 KiB to fetch; it is not read/,
  });
  const c2 = repo.commit('main two', manifests({ greeting: 'two' }));
  repo.git('push', '--quiet', bare, 'main');
  t.equal((await source.read(signal)).commit, c2, 'the tracked branch is fetched as before (no limit on it)');
});

t.test('--preview-branches on a remote whose branches cannot be listed: previews are held, not ended', async (t) => {
  const repo = gitRepo(t, manifests({ greeting: 'one' }));
  const git = await startGitHttpServer(t, { auth: { user: 'x-access-token', password: GIT_TOKEN } });
  const bare = git.addBare('shop.git', repo.dir);
  repo.branch('pr/5');
  repo.checkout('pr/5');
  repo.commit('five', manifests({ greeting: 'five' }));
  repo.git('push', '--quiet', bare, 'pr/5');
  repo.checkout('main');
  const stateDir = tempDir(t, 'setopsd-remote-preview-branches-');
  let failing = false;
  const http = {
    request: async (req: Parameters<typeof nodeHttp.request>[0]) =>
      failing ? { url: req.url, method: req.method ?? 'GET', statusCode: 503, statusMessage: 'Service Unavailable', headers: {}, body: (async function* () {})() } : nodeHttp.request(req),
  };
  const source = () => remoteSource({ url: git.repoUrl('shop.git'), branch: 'main', dir: 'config', stateDir, env: { SETOPSD_GIT_TOKEN: GIT_TOKEN }, http });
  const signal = new AbortController().signal;
  const lines: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
  const settings = { from: 'staging', branches: 'pr/*' };
  const previews = new Previews(stateDir, source(), settings, { log });
  const [read] = await previews.stages(signal);
  t.match(read, { key: 'acme/shop/pr-5', branch: 'pr/5' });
  failing = true;
  t.same(await previews.stages(signal), [read], 'the last list and the last read');
  t.match(lines.join(''), /the branches cannot be listed \(.*HTTP 503.*\); previews of --preview-branches stay as they are/);
  const restarted = new Previews(stateDir, source(), settings, { log });
  await restarted.load();
  t.same(await restarted.stages(signal), []);
  t.same([...restarted.unreadable()], [['acme/shop/pr-5', { number: 5, branch: '' }]], 'never listed since the start: left as deployed');
});
