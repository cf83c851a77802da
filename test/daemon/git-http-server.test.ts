import t from 'tap';
import * as fs from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { connect } from 'node:net';
import { join } from 'node:path';
import git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { gitEnv, gitRepo } from '../helpers/git.js';
import { tempDir } from '../helpers/temp.js';
import { parseCgiHead, startGitHttpServer } from '../helpers/git-http-server.js';

/** The test server of test/helpers/git-http-server.ts, exercised with isomorphic-git and the git command. */

const A = 'apiVersion: setopsd/v1\nkind: Organization\nmetadata:\n  name: acme\n';

t.test('isomorphic-git clones and fetches through it, without auth', async (t) => {
  const source = gitRepo(t, { 'config/org.yaml': A });
  const server = await startGitHttpServer(t);
  const bare = server.addBare('shop.git', source.dir);
  const dir = tempDir(t);

  await git.clone({ fs, http, dir, url: server.repoUrl('shop.git'), ref: 'main', singleBranch: true });
  t.equal(await git.resolveRef({ fs, dir, ref: 'refs/remotes/origin/main' }), source.revParse('HEAD'));
  t.equal(fs.readFileSync(join(dir, 'config/org.yaml'), 'utf8'), A, 'checked out');
  t.ok(server.requests() >= 2, 'info/refs and git-upload-pack');
  t.same(
    server.log.map((r) => [r.method, r.url.replace(/\?.*/, ''), r.status]),
    [
      ['GET', '/shop.git/info/refs', 200],
      ['POST', '/shop.git/git-upload-pack', 200],
    ],
  );

  const c2 = source.commit('second', { 'config/org.yaml': A + '# two\n' });
  source.git('push', '--quiet', bare, 'main');
  const before = server.requests();
  const fetched = await git.fetch({ fs, http, dir, url: server.repoUrl('shop.git'), ref: 'main', singleBranch: true });
  t.equal(fetched.fetchHead, c2);
  t.equal(await git.resolveRef({ fs, dir, ref: 'refs/remotes/origin/main' }), c2);
  t.equal(server.requests(), before + 2);

  const missing = git.fetch({ fs, http, dir, url: server.repoUrl('nope.git'), ref: 'main', singleBranch: true });
  await t.rejects(missing, { code: 'HttpError', data: { statusCode: 404 } }, 'an unknown repository is a 404');
});

t.test('with basic auth: 401 without or with wrong credentials, served with the right ones', async (t) => {
  const source = gitRepo(t, { 'org.yaml': A });
  const auth = { user: 'x-access-token', password: 'test-token-1234' };
  const server = await startGitHttpServer(t, { auth });
  server.addBare('shop.git', source.dir);
  const url = server.repoUrl('shop.git');

  await t.rejects(
    git.clone({ fs, http, dir: tempDir(t), url, noCheckout: true }),
    { code: 'HttpError', data: { statusCode: 401 } },
    'no credentials',
  );
  t.equal(server.log.at(-1)!.status, 401);

  const failures: string[] = [];
  await t.rejects(
    git.clone({
      fs,
      http,
      dir: tempDir(t),
      url,
      noCheckout: true,
      onAuth: () => ({ username: auth.user, password: 'wrong' }),
      onAuthFailure: (u) => {
        failures.push(u);
        return { cancel: true };
      },
    }),
    { code: 'UserCanceledError' },
    'wrong credentials: onAuthFailure is asked, and cancels',
  );
  t.same(failures, [url]);

  const dir = tempDir(t);
  await git.clone({ fs, http, dir, url, noCheckout: true, onAuth: () => ({ username: auth.user, password: auth.password }) });
  t.equal(await git.resolveRef({ fs, dir, ref: 'refs/remotes/origin/main' }), source.revParse('HEAD'));
  const fetched = await git.fetch({ fs, http, dir, url, onAuth: () => ({ username: auth.user, password: auth.password }) });
  t.equal(fetched.fetchHead, source.revParse('HEAD'));
  t.ok(server.log.filter((r) => r.status === 200).every((r) => r.user === 'x-access-token'), 'served requests carry the user');
  t.ok(server.log.filter((r) => r.status === 401).every((r) => r.user === undefined));
});

t.test('the git command clones over it (protocol v2, gzip bodies) and can push when receive-pack is on', async (t) => {
  const source = gitRepo(t, { 'org.yaml': A });
  const auth = { user: 'deploy', password: 'pw-5678' };
  const server = await startGitHttpServer(t, { auth, receivePack: true });
  const bare = server.addBare('shop.git', source.dir);
  const work = tempDir(t);
  const env = { ...gitEnv(work), GIT_TERMINAL_PROMPT: '0' };
  // Asynchronous: the server answers from this same process.
  const run = async (cwd: string, ...args: string[]) =>
    (await promisify(execFile)('git', args, { cwd, env, encoding: 'utf8', timeout: 60_000 })).stdout.trim();
  const clone = join(work, 'clone');
  const authed = server.repoUrl('shop.git').replace('http://', `http://${auth.user}:${auth.password}@`);
  await run(work, '-c', 'protocol.version=2', 'clone', '--quiet', authed, clone);
  t.equal(await run(clone, 'rev-parse', 'HEAD'), source.revParse('HEAD'));

  fs.writeFileSync(join(clone, 'org.yaml'), A + '# pushed over http\n');
  await run(clone, 'commit', '--quiet', '-am', 'over http');
  await run(clone, 'push', '--quiet', 'origin', 'main');
  t.equal(await run(bare, 'rev-parse', 'main'), await run(clone, 'rev-parse', 'HEAD'), 'the bare repository has the push');
  t.ok(server.log.some((r) => r.url.includes('git-receive-pack') && r.status === 200), 'through git-receive-pack');

  await t.rejects(run(work, 'ls-remote', server.repoUrl('shop.git')), 'the git command is refused without credentials');
});

t.test('close stops listening and is idempotent', async (t) => {
  const server = await startGitHttpServer(t);
  server.addBare('empty.git');
  const refs = await git.listServerRefs({ http, url: server.repoUrl('empty.git') });
  t.same(refs, [], 'an empty repository has no refs');
  await server.close();
  await server.close();
  // A pooled keep-alive socket is reset (ECONNRESET); a new connection is refused.
  await t.rejects(git.listServerRefs({ http, url: server.repoUrl('empty.git') }), { code: /^(ECONNRESET|ECONNREFUSED)$/ });
  const refused = await new Promise<string | undefined>((resolve) => {
    const socket = connect(server.port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code));
  });
  t.equal(refused, 'ECONNREFUSED', 'nothing listens on the port any more');
});

t.test('parseCgiHead', async (t) => {
  t.equal(parseCgiHead(Buffer.from('Status: 200 OK\r\nContent-Type: x')), undefined, 'incomplete');
  t.same(parseCgiHead(Buffer.from('Status: 404 Not Found\r\nContent-Type: text/plain\r\nX-A: 1\r\nX-A: 2\r\n\r\nbody')), {
    status: 404,
    headers: { 'Content-Type': 'text/plain', 'X-A': ['1', '2'] },
    rest: Buffer.from('body'),
  });
  t.same(parseCgiHead(Buffer.from('Content-Type: a/b\n\n\0\x01')), { status: 200, headers: { 'Content-Type': 'a/b' }, rest: Buffer.from('\0\x01') });
});
