import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gitEnv } from './git.js';
import { tempDir, type Teardown } from './temp.js';

/**
 * A real git smart-HTTP server for tests: node's `http` server on 127.0.0.1 (a free port) that
 * runs `git http-backend` as a CGI program per request, serving the bare repositories under
 * `root`. Optional HTTP basic auth with one fixed user and password (401 with
 * `WWW-Authenticate` otherwise). Closed on teardown: the listening socket, open connections and
 * any running `git http-backend`.
 *
 * ```ts
 * const server = await startGitHttpServer(t, { auth: { user: 'x-access-token', password: 'token' } });
 * server.addBare('repo.git', sourceRepo.dir);          // bare clone of a test repository
 * await git.clone({ fs, http, dir, url: server.repoUrl('repo.git'), onAuth: () => ({ … }) });
 * ```
 */

export interface GitHttpServerOptions {
  /** Require HTTP basic auth with exactly this user and password. */
  auth?: { user: string; password: string };
  /** Accept pushes (`git-receive-pack`) too; off by default (fetch and clone only). */
  receivePack?: boolean;
}

/** One request the server answered. */
export interface GitHttpRequest {
  method: string;
  /** Path and query, e.g. `/repo.git/info/refs?service=git-upload-pack`. */
  url: string;
  status: number;
  /** The authenticated user, when auth is on and the request passed it. */
  user?: string;
}

export interface GitHttpServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** Directory holding the served bare repositories (`GIT_PROJECT_ROOT`). */
  root: string;
  /** URL of repository `name` under root, e.g. `http://127.0.0.1:PORT/repo.git`. */
  repoUrl(name: string): string;
  /** Creates bare repository `name` under root: a bare clone of `from`, or empty. Returns its path. */
  addBare(name: string, from?: string): string;
  /** Number of requests received so far (including refused ones). */
  requests(): number;
  /** Every answered request, in order. */
  log: GitHttpRequest[];
  /** Stops listening, drops open connections, kills running backends; resolves when all are gone. Idempotent. */
  close(): Promise<void>;
}

/** Starts a server; it is closed on `t`'s teardown. */
export async function startGitHttpServer(t: Teardown, opts: GitHttpServerOptions = {}): Promise<GitHttpServer> {
  const base = tempDir(t, 'setopsd-githttp-');
  const root = join(base, 'repos');
  const home = join(base, 'home');
  mkdirSync(root);
  mkdirSync(home);
  const children = new Set<ChildProcess>();
  const log: GitHttpRequest[] = [];
  let count = 0;

  const backendEnv: NodeJS.ProcessEnv = {
    ...gitEnv(home),
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    ...(opts.receivePack ? { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.receivepack', GIT_CONFIG_VALUE_0: 'true' } : {}),
  };

  const server = createServer((req, res) => {
    count++;
    const entry: GitHttpRequest = { method: req.method ?? 'GET', url: req.url ?? '/', status: 0 };
    res.on('finish', () => {
      entry.status = res.statusCode;
      log.push(entry);
    });
    if (opts.auth) {
      const user = authenticated(req, opts.auth);
      if (user === undefined) {
        req.resume();
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="setopsd test git server"', 'Content-Type': 'text/plain' });
        res.end('authentication required\n');
        return;
      }
      entry.user = user;
    }
    runBackend(req, res, entry.user);
  });

  function runBackend(req: IncomingMessage, res: ServerResponse, user: string | undefined): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const env: NodeJS.ProcessEnv = {
      ...backendEnv,
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
      ...(req.headers['content-length'] !== undefined ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
      ...(req.headers['content-encoding'] !== undefined ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
      ...(typeof req.headers['git-protocol'] === 'string' ? { GIT_PROTOCOL: req.headers['git-protocol'] } : {}),
      ...(user !== undefined ? { REMOTE_USER: user, AUTH_TYPE: 'Basic' } : {}),
    };
    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4096);
    });
    child.stdin.on('error', () => {}); // the backend may exit before reading the whole body
    req.pipe(child.stdin);
    // The client went away: stop the backend.
    res.on('close', () => {
      if (!res.writableFinished) child.kill('SIGKILL');
    });

    let head = Buffer.alloc(0);
    let headersSent = false;
    const onData = (chunk: Buffer) => {
      if (headersSent) return;
      head = Buffer.concat([head, chunk]);
      const parsed = parseCgiHead(head);
      if (!parsed) return;
      headersSent = true;
      child.stdout.off('data', onData);
      res.writeHead(parsed.status, parsed.headers);
      if (parsed.rest.length > 0) res.write(parsed.rest);
      child.stdout.pipe(res);
    };
    child.stdout.on('data', onData);
    child.on('error', (error) => {
      children.delete(child);
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end(`git http-backend could not start: ${error.message}\n`);
    });
    child.on('close', (code) => {
      children.delete(child);
      if (!headersSent && !res.headersSent) {
        res.writeHead(502, { 'Content-Type': 'text/plain' });
        res.end(`git http-backend exited with ${code} before answering: ${stderr}\n`);
      }
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await Promise.all(
        [...children].map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once('close', () => resolve());
              child.kill('SIGKILL');
            }),
        ),
      );
      await stopped;
    })());
  t.teardown(close);

  return {
    url,
    port,
    root,
    repoUrl: (name) => `${url}/${name}`,
    addBare(name, from) {
      const path = join(root, name);
      const env = gitEnv(home);
      if (from === undefined) execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', path], { env, stdio: 'pipe' });
      else execFileSync('git', ['clone', '--quiet', '--bare', from, path], { env, stdio: 'pipe' });
      return path;
    },
    requests: () => count,
    log,
    close,
  };
}

/** The user of a request whose basic credentials are exactly `auth`'s, else undefined. */
function authenticated(req: IncomingMessage, auth: { user: string; password: string }): string | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  return user === auth.user && password === auth.password ? user : undefined;
}

/**
 * Splits a CGI response into status, headers and the start of the body once the blank line
 * after the headers has arrived (`\r\n\r\n` or `\n\n`); undefined until then.
 */
export function parseCgiHead(
  data: Buffer,
): { status: number; headers: Record<string, string | string[]>; rest: Buffer } | undefined {
  const crlf = data.indexOf('\r\n\r\n');
  const lf = data.indexOf('\n\n');
  let end: number;
  let sep: number;
  if (crlf >= 0 && (lf < 0 || crlf < lf)) [end, sep] = [crlf, 4];
  else if (lf >= 0) [end, sep] = [lf, 2];
  else return undefined;
  let status = 200;
  const headers: Record<string, string | string[]> = {};
  for (const line of data.subarray(0, end).toString('latin1').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') {
      status = Number.parseInt(value, 10) || 500;
      continue;
    }
    const existing = headers[name];
    headers[name] = existing === undefined ? value : ([] as string[]).concat(existing, value);
  }
  return { status, headers, rest: data.subarray(end + sep) };
}
