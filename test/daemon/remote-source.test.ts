import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { inspect } from 'node:util';
import {
  DEFAULT_TOKEN_USER,
  E_GIT_AUTH,
  E_GIT_CLONE_DIR, E_GIT_FETCH, E_GIT_NOT_A_REPOSITORY,
  E_GIT_URL,
  RemoteSource,
  checkRemoteUrl,
  gitCredentials,
  mayCarryCredentials,
  remoteDir,
  type RemoteFetchResult,
} from '../../src/daemon/remote-source.js';
import { readGitTree } from '../../src/manifests/source-git.js';
import type { HttpClient } from 'isomorphic-git';
import nodeHttp from 'isomorphic-git/http/node';
import { CanceledError, SetopsError } from '../../src/errors.js';
import { gitEnv, gitRepo } from '../helpers/git.js';
import { tempDir } from '../helpers/temp.js';
import { startGitHttpServer, type GitHttpServerOptions } from '../helpers/git-http-server.js';

const ORG = 'apiVersion: setopsd/v1\nkind: Organization\nmetadata:\n  name: acme\n';
const PROJECT = 'apiVersion: setopsd/v1\nkind: Project\nmetadata:\n  name: shop\n';

/** A source repository, served bare over HTTP as `shop.git`, and a state directory. */
async function setup(t: Test, server: GitHttpServerOptions = {}) {
  const repo = gitRepo(t, { 'config/org.yaml': ORG });
  const http = await startGitHttpServer(t, server);
  const bare = http.addBare('shop.git', repo.dir);
  const stateDir = tempDir(t, 'setopsd-state-');
  const url = http.repoUrl('shop.git');
  const push = (...args: string[]) => repo.git('push', '--quiet', ...args, bare, 'main');
  const inBare = (...args: string[]) =>
    execFileSync('git', args, { cwd: bare, env: gitEnv(stateDir), encoding: 'utf8', stdio: 'pipe' }).trim();
  const source = (env: Record<string, string | undefined> = {}, branch = 'main') =>
    new RemoteSource({ url, branch, dir: remoteDir(stateDir, url, branch), env });
  return { repo, http, bare, stateDir, url, push, inBare, source };
}

/** Runs `promise` and returns the SetopsError it rejects with (fails the test otherwise). */
async function failure(t: Test, promise: Promise<unknown>): Promise<SetopsError> {
  try {
    await promise;
  } catch (error) {
    t.type(error, SetopsError, 'rejects with a SetopsError');
    return error as SetopsError;
  }
  t.fail('expected a rejection');
  throw new Error('unreachable');
}

t.test('first fetch clones; then a pushed commit is seen; nothing new is reported as unchanged', async (t) => {
  const s = await setup(t);
  const c1 = s.repo.revParse('HEAD');
  const source = s.source();
  t.equal(await source.current(), undefined, 'nothing fetched yet');
  t.same(await source.fetch(), { kind: 'commit', commit: c1, previous: undefined, changed: true, forced: false });
  t.equal(await source.current(), c1);
  t.ok(source.gitdir.startsWith(join(s.stateDir, 'remotes') + '/'), 'the clone is under the state directory');
  t.same(readdirSync(join(s.stateDir, 'remotes')), [source.gitdir.split('/').pop()], 'no temp dir left behind');

  const tree = await readGitTree({ repo: source.gitdir, ref: c1, dir: 'config' });
  t.same(tree.files.map(({ path, text }) => ({ path, text })), [{ path: 'org.yaml', text: ORG }], 'manifests are read from the bare clone');

  t.same(await source.fetch(), { kind: 'commit', commit: c1, previous: c1, changed: false, forced: false });

  const c2 = s.repo.commit('project', { 'config/project.yaml': PROJECT });
  s.push();
  t.same(await source.fetch(), { kind: 'commit', commit: c2, previous: c1, changed: true, forced: false });
  t.same((await readGitTree({ repo: source.gitdir, ref: c2, dir: 'config' })).files.map((f) => f.path), ['org.yaml', 'project.yaml']);

  const c3 = s.repo.commit('three', { 'config/org.yaml': ORG + '# 3\n' });
  const c4 = s.repo.commit('four', { 'config/org.yaml': ORG + '# 4\n' });
  s.push();
  t.not(c3, c4);
  t.same(await source.fetch(), { kind: 'commit', commit: c4, previous: c2, changed: true, forced: false }, 'several commits at once');

  const fresh = s.source();
  t.equal(await fresh.current(), c4, 'a new RemoteSource on the same directory starts where the last one was');
  t.same(await fresh.fetch(), { kind: 'commit', commit: c4, previous: c4, changed: false, forced: false });
});

t.test('later fetches ask only for new objects (the last fetched commit is offered as "have")', async (t) => {
  const s = await setup(t);
  s.repo.commit('big', { 'config/big.bin': randomBytes(256 * 1024) });
  s.push();
  // Counts the bytes of each upload-pack answer through the injectable HTTP client.
  const packs: number[] = [];
  const counting: HttpClient = {
    async request(req) {
      const res = await nodeHttp.request(req);
      if (req.method !== 'POST' || !res.body) return res;
      const chunks: Uint8Array[] = [];
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) chunks.push(chunk);
      packs.push(chunks.reduce((n, c) => n + c.length, 0));
      return { ...res, body: chunks[Symbol.iterator]() as unknown as AsyncIterableIterator<Uint8Array> };
    },
  };
  const source = new RemoteSource({ url: s.url, branch: 'main', dir: remoteDir(s.stateDir, s.url, 'main'), env: {}, http: counting });
  t.match(await source.fetch(), { changed: true });
  t.match(await source.fetch(), { changed: false });
  s.repo.commit('small', { 'config/org.yaml': ORG + '# small\n' });
  s.push();
  t.match(await source.fetch(), { changed: true });
  t.equal(packs.length, 3);
  t.ok(packs[0]! > 256 * 1024, `the first fetch gets the big blob (${packs[0]} bytes)`);
  t.ok(packs[1]! < 4096, `nothing new: a small answer (${packs[1]} bytes)`);
  t.ok(packs[2]! < 4096, `one small commit: a small answer (${packs[2]} bytes)`);
});

t.test('a force-push is reported as forced; the caller decides', async (t) => {
  const s = await setup(t);
  const source = s.source();
  const c2 = s.repo.commit('two', { 'config/org.yaml': ORG + '# two\n' });
  s.push();
  t.match(await source.fetch(), { commit: c2, forced: false });

  s.repo.git('reset', '--quiet', '--hard', 'HEAD~1');
  const rewritten = s.repo.commit('rewritten', { 'config/org.yaml': ORG + '# rewritten\n' });
  s.push('--force');
  t.same(await source.fetch(), { kind: 'commit', commit: rewritten, previous: c2, changed: true, forced: true });
  t.ok((await readGitTree({ repo: source.gitdir, ref: c2 })).files.length > 0, 'the previous commit can still be read');

  s.repo.git('reset', '--quiet', '--hard', c2);
  s.push('--force');
  t.same(await source.fetch(), { kind: 'commit', commit: c2, previous: rewritten, changed: true, forced: true }, 'back again is forced too');

  const c3 = s.repo.commit('three');
  s.push();
  t.same(await source.fetch(), { kind: 'commit', commit: c3, previous: c2, changed: true, forced: false });
});

t.test('a deleted branch is reported, keeps the previous commit, and comes back when pushed again', async (t) => {
  const s = await setup(t);
  const source = s.source();
  const c1 = s.repo.revParse('HEAD');
  await source.fetch();
  s.repo.branch('other');
  s.repo.git('push', '--quiet', s.bare, 'other');
  s.inBare('update-ref', '-d', 'refs/heads/main');
  t.same(await source.fetch(), { kind: 'branch-missing', branch: 'main', previous: c1 }, 'other branches remain');
  t.equal(await source.current(), c1, 'the last commit seen stays');

  s.inBare('update-ref', '-d', 'refs/heads/other');
  t.same(await source.fetch(), { kind: 'branch-missing', branch: 'main', previous: c1 }, 'no branch at all');

  const c2 = s.repo.commit('again', { 'config/org.yaml': ORG + '# again\n' });
  s.push();
  t.same(await source.fetch(), { kind: 'commit', commit: c2, previous: c1, changed: true, forced: false });
});

t.test('following a branch that does not exist, or an empty repository, from the start', async (t) => {
  const s = await setup(t);
  t.same(await s.source({}, 'release').fetch(), { kind: 'branch-missing', branch: 'release', previous: undefined });
  s.http.addBare('empty.git');
  const url = s.http.repoUrl('empty.git');
  const empty = new RemoteSource({ url, branch: 'main', dir: remoteDir(s.stateDir, url, 'main'), env: {} });
  t.same(await empty.fetch(), { kind: 'branch-missing', branch: 'main', previous: undefined });
});

t.test('credentials: SETOPSD_GIT_TOKEN as x-access-token, or with SETOPSD_GIT_USER; or user and password', async (t) => {
  const cases: [string, Record<string, string>, { user: string; password: string }][] = [
    ['token', { SETOPSD_GIT_TOKEN: 'tok-1' }, { user: DEFAULT_TOKEN_USER, password: 'tok-1' }],
    ['token with a user', { SETOPSD_GIT_TOKEN: 'tok-2', SETOPSD_GIT_USER: 'oauth2' }, { user: 'oauth2', password: 'tok-2' }],
    ['user and password', { SETOPSD_GIT_USER: 'deploy', SETOPSD_GIT_PASSWORD: 'pw-3' }, { user: 'deploy', password: 'pw-3' }],
  ];
  for (const [what, env, auth] of cases) {
    const s = await setup(t, { auth });
    const result = await s.source(env).fetch();
    t.match(result, { kind: 'commit', commit: s.repo.revParse('HEAD') }, what);
    const served = s.http.log.filter((r) => r.status === 200);
    t.ok(served.length >= 2 && served.every((r) => r.user === auth.user), `${what}: served as ${auth.user}`);
  }
});

t.test('wrong or missing credentials are a clear, non-retryable E_GIT_AUTH naming the URL', async (t) => {
  const s = await setup(t, { auth: { user: DEFAULT_TOKEN_USER, password: 'right-token' } });
  const wrong = await failure(t, s.source({ SETOPSD_GIT_TOKEN: 'wrong-token' }).fetch());
  t.equal(wrong.code, E_GIT_AUTH);
  t.equal(wrong.retryable, false);
  t.equal(
    wrong.message,
    `remote ${s.url}: the server refused the credentials (from SETOPSD_GIT_TOKEN); check the token and that it may read the repository`,
  );
  const none = await failure(t, s.source({}).fetch());
  t.equal(none.code, E_GIT_AUTH);
  t.equal(none.retryable, false);
  t.equal(none.message, `remote ${s.url}: the server asks for credentials (HTTP 401); set SETOPSD_GIT_TOKEN (or SETOPSD_GIT_USER and SETOPSD_GIT_PASSWORD)`);
  t.same(none.data, { url: s.url, branch: 'main', cause: 'HttpError', status: 401 });
  t.match(await s.source({ SETOPSD_GIT_TOKEN: 'right-token' }).fetch(), { kind: 'commit' }, 'the right token works afterwards');
});

t.test('canary: the token never appears in errors or in any file under the state directory', async (t) => {
  const token = `canary-git-token-${randomBytes(12).toString('hex')}`;
  const s = await setup(t, { auth: { user: DEFAULT_TOKEN_USER, password: token } });
  const source = s.source({ SETOPSD_GIT_TOKEN: token });
  await source.fetch();
  s.repo.commit('two', { 'config/org.yaml': ORG + '# two\n' });
  s.push();
  t.match(await source.fetch(), { changed: true });

  const errors: unknown[] = [];
  const collect = (p: Promise<unknown>) => p.then(() => t.fail('expected a rejection'), (e: unknown) => void errors.push(e));
  await collect(s.source({ SETOPSD_GIT_TOKEN: `${token}-wrong` }).fetch());
  await collect(s.source({ SETOPSD_GIT_TOKEN: token.slice(0, -1) }).fetch());
  await collect(new RemoteSource({ url: `${s.url}-missing`, branch: 'main', dir: join(s.stateDir, 'x.git'), env: { SETOPSD_GIT_TOKEN: token } }).fetch());
  for (const url of [s.url.replace('http://', `http://x-access-token:${token}@`), `${s.url}?private_token=${token}`, `not a url ${token}@`]) {
    try {
      new RemoteSource({ url, branch: 'main', dir: join(s.stateDir, 'y.git'), env: { SETOPSD_GIT_TOKEN: token } });
      t.fail('expected a refusal');
    } catch (e) {
      errors.push(e);
    }
  }
  await s.http.close();
  await collect(source.fetch());
  t.equal(errors.length, 7);

  const forbidden = [token, Buffer.from(`${DEFAULT_TOKEN_USER}:${token}`).toString('base64'), Buffer.from(token).toString('base64')];
  for (const [i, error] of errors.entries()) {
    const seen = [(error as Error).message, JSON.stringify((error as SetopsError).data), inspect(error, { depth: 10 })].join('\n');
    for (const secret of forbidden) t.notOk(seen.includes(secret), `error ${i} (${(error as Error).message}) holds no token`);
  }

  const files = walk(s.stateDir);
  t.ok(files.length > 5, `${files.length} files under the state directory`);
  const config = readFileSync(join(source.gitdir, 'config'), 'utf8');
  t.match(config, `url = ${s.url}`, 'the remote URL is recorded, plain');
  for (const file of files) {
    const bytes = readFileSync(file);
    for (const secret of forbidden) t.notOk(bytes.includes(secret), `${file.slice(s.stateDir.length)} holds no token`);
  }
});

t.test('server down: a retryable E_GIT_FETCH', async (t) => {
  const s = await setup(t);
  const source = s.source();
  await source.fetch();
  await s.http.close();
  const down = await failure(t, source.fetch());
  t.equal(down.code, E_GIT_FETCH);
  t.equal(down.retryable, true);
  t.match(down.message, new RegExp(`^remote ${s.url}: cannot reach the server \\((ECONNREFUSED|ECONNRESET)\\); the fetch is retried$`));
  const fresh = await failure(t, source.fetch());
  t.match(fresh.message, /\(ECONNREFUSED\)/, 'a new connection is refused');
  t.equal(fresh.retryable, true);
});

t.test('a missing repository is not retried; other HTTP answers map to retryable or not', async (t) => {
  const s = await setup(t);
  const url = `${s.url.replace('/shop.git', '')}/nope.git`;
  const missing = await failure(t, new RemoteSource({ url, branch: 'main', dir: remoteDir(s.stateDir, url, 'main'), env: {} }).fetch());
  t.equal(missing.code, E_GIT_NOT_A_REPOSITORY);
  t.equal(missing.retryable, false);
  t.equal(missing.message, `remote ${url}: no repository there (HTTP 404); check the URL and that the credentials may read it`);

  const answers: [string, (res: ServerResponse) => void, boolean, RegExp][] = [
    ['503', (res) => res.writeHead(503).end('maintenance'), true, /answered HTTP 503; the fetch is retried$/],
    ['429', (res) => res.writeHead(429).end(), true, /answered HTTP 429; the fetch is retried$/],
    ['418', (res) => res.writeHead(418).end(), false, /answered HTTP 418; check the URL$/],
    ['403', (res) => res.writeHead(403).end('token lacks scope'), false, /access denied \(HTTP 403\)/],
    ['html', (res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>sign in</html>'), false, /does not answer as a git server; check the URL$/],
  ];
  for (const [what, answer, retryable, message] of answers) {
    const server = await rawServer(t, (_req, res) => answer(res));
    const url = `${server.url}/repo.git`;
    const error = await failure(t, new RemoteSource({ url, branch: 'main', dir: remoteDir(s.stateDir, url, what), env: {} }).fetch());
    t.equal(error.retryable, retryable, `${what}: retryable ${retryable}`);
    t.match(error.message, message, what);
    t.ok(error.message.startsWith(`remote ${url}: `), `${what}: starts with the remote`);
  }
});

t.test('the signal aborts a fetch whose server never answers, or stops in the middle of a body', async (t) => {
  const stateDir = tempDir(t);
  for (const how of ['no answer', 'half a body'] as const) {
    const server = await rawServer(t, (_req, res) => {
      if (how === 'half a body') {
        res.writeHead(200, { 'Content-Type': 'application/x-git-upload-pack-advertisement' });
        res.write('001e# service=git-upload-pack\n');
      }
      // …and then nothing more.
    });
    const url = `${server.url}/repo.git`;
    const source = new RemoteSource({ url, branch: 'main', dir: remoteDir(stateDir, url, how), env: {} });
    const controller = new AbortController();
    const fetching = source.fetch(controller.signal);
    await server.nextRequest();
    controller.abort();
    await t.rejects(fetching, CanceledError, `${how}: canceled`);
  }
  const aborted = new AbortController();
  aborted.abort();
  await t.rejects(new RemoteSource({ url: 'http://127.0.0.1:9/x.git', branch: 'main', dir: join(stateDir, 'z.git'), env: {} }).fetch(aborted.signal), CanceledError, 'already aborted: nothing is done');
});

t.test('the clone directory: a leftover without config is replaced; an unusable one is a clear error', async (t) => {
  const s = await setup(t);
  const dir = remoteDir(s.stateDir, s.url, 'main');
  mkdirSync(join(dir, 'objects'), { recursive: true });
  writeFileSync(join(dir, 'objects', 'junk'), 'left by a crash');
  t.match(await new RemoteSource({ url: s.url, branch: 'main', dir, env: {} }).fetch(), { kind: 'commit', changed: true });
  t.notOk(existsSync(join(dir, 'objects', 'junk')));

  const file = join(s.stateDir, 'a-file');
  writeFileSync(file, '');
  const error = await failure(t, new RemoteSource({ url: s.url, branch: 'main', dir: join(file, 'x.git'), env: {} }).fetch());
  t.equal(error.code, E_GIT_CLONE_DIR);
  t.equal(error.retryable, false);
  t.ok(error.message.startsWith(`remote ${s.url}: cannot create its clone in ${join(file, 'x.git')} (`), error.message);
  t.match(error.message, /\((ENOTDIR|EEXIST)\); check that the state directory is writable$/);
});

t.test('fetches of one source run one after another', async (t) => {
  const s = await setup(t);
  const source = s.source();
  const results: RemoteFetchResult[] = await Promise.all([source.fetch(), source.fetch(), source.fetch()]);
  const c1 = s.repo.revParse('HEAD');
  t.same(
    results.map((r) => r.kind === 'commit' && [r.previous, r.changed]),
    [
      [undefined, true],
      [c1, false],
      [c1, false],
    ],
  );
});

t.test('constructor refusals: URL, branch, credential settings', async (t) => {
  const make = (url: string, branch = 'main', env: Record<string, string> = {}) => () => new RemoteSource({ url, branch, dir: '/nonexistent/x.git', env });
  const refusals: [() => unknown, string, RegExp][] = [
    [make('git@github.com:acme/infra.git'), E_GIT_URL, /^remote "\*\*\*@github\.com:acme\/infra\.git" is not a URL; give the https:\/\/ URL of the repository \(SSH remotes are not followed\)$/],
    [make('ssh://git@github.com/acme/infra.git'), E_GIT_URL, /^remote ssh:\/\/github\.com\/acme\/infra\.git: only https:\/\/ and http:\/\/ URLs are followed \(got ssh:\)/],
    [make('https://user:secret@github.com/acme/infra.git'), E_GIT_URL, /^remote https:\/\/github\.com\/acme\/infra\.git: the URL has credentials in it; remove them and set SETOPSD_GIT_TOKEN instead$/],
    [make('https://github.com/acme/infra.git?x=1'), E_GIT_URL, /has a query or fragment/],
    [make('https://github.com/acme/infra.git', 'feature..x'), E_GIT_URL, /"feature\.\.x" is not a branch name/],
    [make('https://github.com/acme/infra.git', '-x'), E_GIT_URL, /is not a branch name/],
    [make('https://github.com/acme/infra.git', ''), E_GIT_URL, /is not a branch name/],
    [make('https://github.com/acme/infra.git', 'main', { SETOPSD_GIT_TOKEN: 'a', SETOPSD_GIT_PASSWORD: 'b' }), E_GIT_AUTH, /^SETOPSD_GIT_TOKEN and SETOPSD_GIT_PASSWORD are both set; set only one of them$/],
    [make('https://github.com/acme/infra.git', 'main', { SETOPSD_GIT_PASSWORD: 'b' }), E_GIT_AUTH, /^SETOPSD_GIT_PASSWORD is set without SETOPSD_GIT_USER/],
    [make('https://github.com/acme/infra.git', 'main', { SETOPSD_GIT_USER: 'u' }), E_GIT_AUTH, /^SETOPSD_GIT_USER is set without SETOPSD_GIT_TOKEN or SETOPSD_GIT_PASSWORD/],
  ];
  for (const [fn, code, message] of refusals) {
    let error: unknown;
    try {
      fn();
    } catch (e) {
      error = e;
    }
    t.type(error, SetopsError);
    t.equal((error as SetopsError).code, code);
    t.equal((error as SetopsError).retryable, false);
    t.match((error as Error).message, message);
    t.notMatch((error as Error).message, /secret/, 'no password from the URL');
  }
  for (const branch of ['main', 'release/2026-01', 'feature/x_y.z']) t.doesNotThrow(make('https://github.com/acme/infra.git', branch), branch);
});

t.test('gitCredentials, mayCarryCredentials, checkRemoteUrl, remoteDir', async (t) => {
  t.equal(gitCredentials({}), undefined);
  t.equal(gitCredentials({ SETOPSD_GIT_TOKEN: '', SETOPSD_GIT_USER: '' }), undefined, 'empty values are unset');
  t.same(gitCredentials({ SETOPSD_GIT_TOKEN: 't' }), { username: 'x-access-token', password: 't', from: 'SETOPSD_GIT_TOKEN' });
  t.same(gitCredentials({ SETOPSD_GIT_USER: 'u', SETOPSD_GIT_PASSWORD: 'p' }), { username: 'u', password: 'p', from: 'SETOPSD_GIT_PASSWORD' });

  const table: [string, boolean][] = [
    ['https://github.com/a/b.git', true],
    ['http://127.0.0.1:8080/a.git', true],
    ['http://127.1.2.3/a.git', true],
    ['http://localhost/a.git', true],
    ['http://[::1]:80/a.git', true],
    ['http://git.internal/a.git', false],
    ['http://10.0.0.1/a.git', false],
    ['http://127.0.0.1.example.com/a.git', false],
  ];
  for (const [url, ok] of table) t.equal(mayCarryCredentials(new URL(url)), ok, url);

  t.equal(checkRemoteUrl('https://github.com/acme/infra.git').host, 'github.com');
  const a = remoteDir('/state', 'https://github.com/acme/infra.git', 'main');
  t.match(a, /^\/state\/remotes\/github\.com-acme-infra-[0-9a-f]{12}\.git$/);
  t.equal(remoteDir('/state', 'https://github.com/acme/infra.git', 'main'), a, 'stable');
  t.not(remoteDir('/state', 'https://github.com/acme/infra.git', 'release'), a, 'per branch');
  t.not(remoteDir('/state', 'https://gitlab.com/acme/infra.git', 'main'), a, 'per URL');
  t.match(remoteDir('/state', 'http://127.0.0.1:8080/a b/c.git', 'main'), /^\/state\/remotes\/127\.0\.0\.1-8080-a-20b-c-[0-9a-f]{12}\.git$/);
});

/** Every file under `dir`, recursively. */
function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/** A plain HTTP server on 127.0.0.1 answering with `handler`, closed (with its connections) on teardown. */
async function rawServer(t: Test, handler: (req: IncomingMessage, res: ServerResponse) => void) {
  let requests = 0;
  const waiting: (() => void)[] = [];
  const server = createServer((req, res) => {
    requests++;
    req.resume();
    handler(req, res);
    for (const resolve of waiting.splice(0)) resolve();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    /** Resolves when the next request arrives. */
    nextRequest: () => new Promise<void>((resolve) => waiting.push(resolve)),
  };
}
