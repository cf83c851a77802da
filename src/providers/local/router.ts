import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import type { Duplex } from 'node:stream';
import type { ManagedProcess } from './managed-process.js';

/** How the router finds backends; implemented by the supervisor. */
export interface RouteTable {
  /** The app answering to a host name (lower case, without port), or null. */
  appFor(host: string): { name: string; backends(): ManagedProcess[] } | null;
  /** Every routed host name (for the 404 page). */
  hosts(): string[];
  /** `org/project/stage`, for messages. */
  stageLabel: string;
}

/** Not forwarded either way; `transfer-encoding` and `expect` are the connection's business (Node and undici frame bodies themselves). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'upgrade', 'transfer-encoding', 'expect']);

/** Tunables of the router's upstream side. */
export interface RouterOptions {
  /** A process that sends nothing for this long (no headers, or a stalled body) gets a 504 (ms). */
  upstreamTimeoutMs?: number;
  /** Connections to one process at most (kept alive, reused); more requests at once wait for one. */
  connectionsPerProcess?: number;
}

/** Upstream defaults: generous for slow endpoints, but never forever. */
const UPSTREAM_TIMEOUT_MS = 60_000;
/** Idle pooled connections close before a Node server's default 5 s keep-alive timeout would close them under us. */
const IDLE_CLOSE_MS = 4000;
/** Like nginx's `keepalive` of an upstream: enough for a busy process, bounded so a flood waits in the router. */
const CONNECTIONS_PER_PROCESS = 128;
/** How often pools of processes that are gone (replaced by a deployment) are closed. */
const SWEEP_MS = 10_000;

/**
 * The stage's HTTP router: routes by Host header to healthy processes of public apps,
 * round-robin; streams bodies both ways; 404 for unknown hosts, 502 when an app has no
 * healthy process. A request without a body is retried on the next process when a
 * connection to one fails before any response (a process that just died).
 */
export class Router {
  private server: Server | null = null;
  private readonly next = new Map<string, number>();
  /** Keep-alive pools (undici), one per process port, shared by every request to it. */
  private readonly pools = new Map<number, Pool>();
  private readonly upstreamTimeoutMs: number;
  private readonly connectionsPerProcess: number;
  private sweeper: NodeJS.Timeout | null = null;

  constructor(private readonly table: RouteTable, opts: RouterOptions = {}) {
    this.upstreamTimeoutMs = opts.upstreamTimeoutMs ?? UPSTREAM_TIMEOUT_MS;
    this.connectionsPerProcess = opts.connectionsPerProcess ?? CONNECTIONS_PER_PROCESS;
  }

  /** `org/project/stage`, for messages. */
  get stageLabel(): string {
    return this.table.stageLabel;
  }

  /** Starts listening on 127.0.0.1:port (0: any free port); returns the port. */
  listen(port: number): Promise<number> {
    const server = createServer((req, res) => this.handle(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    server.keepAliveTimeout = 5000;
    this.server = server;
    this.sweeper = setInterval(() => this.sweepPools(), SWEEP_MS);
    this.sweeper.unref();
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        const addr = server.address();
        resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
      });
    });
  }

  close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.sweeper = null;
    const pools = [...this.pools.values()];
    this.pools.clear();
    for (const pool of pools) void pool.destroy().catch(() => {});
    if (server === null) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** The next of `backends` for `app`, round-robin. */
  private pick(app: string, backends: ManagedProcess[]): ManagedProcess {
    const i = (this.next.get(app) ?? 0) % backends.length;
    this.next.set(app, i + 1);
    return backends[i]!;
  }

  /** WebSocket and other upgrades: tunnel the connection to one healthy process. */
  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const app = this.table.appFor(hostOf(req.headers.host));
    const backends = app?.backends() ?? [];
    if (app === null || backends.length === 0) {
      socket.end(`HTTP/1.1 ${app === null ? '404 Not Found' : '502 Bad Gateway'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      return;
    }
    const backend = this.pick(app.name, backends);
    const release = claim(backend);
    const head1 = (status: string, raw: string[]) => {
      let out = `HTTP/1.1 ${status}\r\n`;
      for (let k = 0; k < raw.length; k += 2) out += `${raw[k]}: ${raw[k + 1]}\r\n`;
      return `${out}\r\n`;
    };
    const upstream = request({ host: '127.0.0.1', port: backend.port, method: req.method, path: req.url, headers: req.headers, agent: false });
    upstream.on('upgrade', (res, upSocket, upHead) => {
      socket.write(head1(`${res.statusCode} ${res.statusMessage}`, res.rawHeaders));
      if (upHead.length > 0) socket.write(upHead);
      if (head.length > 0) upSocket.write(head);
      upSocket.on('error', () => socket.destroy());
      upSocket.on('close', () => {
        release();
        socket.destroy();
      });
      socket.on('close', () => {
        release();
        upSocket.destroy();
      });
      upSocket.pipe(socket).pipe(upSocket);
    });
    upstream.on('response', (res) => {
      // The process refused the upgrade: relay its answer.
      const raw: string[] = [];
      for (let k = 0; k < res.rawHeaders.length; k += 2) {
        const name = res.rawHeaders[k]!.toLowerCase();
        if (!HOP_BY_HOP.has(name) && name !== 'transfer-encoding') raw.push(res.rawHeaders[k]!, res.rawHeaders[k + 1]!);
      }
      socket.write(head1(`${res.statusCode} ${res.statusMessage}`, [...raw, 'connection', 'close']));
      res.pipe(socket);
      res.on('end', release);
    });
    upstream.on('error', () => {
      release();
      socket.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    });
    upstream.end();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const host = hostOf(req.headers.host);
    const app = this.table.appFor(host);
    if (app === null) {
      const known = this.table.hosts();
      text(res, 404,
        `setopsd router for stage ${this.table.stageLabel}: no public app answers to host "${host}".\n` +
          (known.length === 0 ? 'This stage has no public app.\n' : `Known hosts:\n${known.map((h) => `  ${h}`).join('\n')}\n`) +
          `Send the app's host name in the Host header, e.g. curl -H "Host: ${known[0] ?? 'APP.STAGE.PROJECT.localhost'}" http://127.0.0.1:${req.socket.localPort ?? 'PORT'}/\n`);
      return;
    }
    const backends = app.backends();
    if (backends.length === 0) {
      text(res, 502, noHealthy(app.name, this.table.stageLabel));
      return;
    }
    const cl = req.headers['content-length'];
    const hasBody = (cl !== undefined && cl !== '0') || req.headers['transfer-encoding'] !== undefined;
    new Forwarding(this, req, res, app, host, hasBody).send(this.pick(app.name, backends));
  }

  /** The keep-alive pool of one process (by port), made on first use. */
  poolFor(port: number): Pool {
    let pool = this.pools.get(port);
    if (pool === undefined) {
      pool = new Pool(`http://127.0.0.1:${port}`, {
        connections: this.connectionsPerProcess,
        pipelining: 1,
        keepAliveTimeout: IDLE_CLOSE_MS,
        keepAliveMaxTimeout: IDLE_CLOSE_MS,
        headersTimeout: this.upstreamTimeoutMs,
        bodyTimeout: this.upstreamTimeoutMs,
        connect: { timeout: Math.min(this.upstreamTimeoutMs, 10_000) },
      });
      this.pools.set(port, pool);
    }
    return pool;
  }

  /** Closes the pools of processes that are no longer routed (their ports are gone with them). */
  private sweepPools(): void {
    const live = new Set<number>();
    for (const h of this.table.hosts()) for (const b of this.table.appFor(h)?.backends() ?? []) live.add(b.port);
    for (const [port, pool] of this.pools) {
      if (!live.has(port)) {
        this.pools.delete(port);
        void pool.close().catch(() => {});
      }
    }
  }

  /** The next backend of `app` not in `tried`, round-robin, or null (for a retry). */
  retryTarget(app: { name: string; backends(): ManagedProcess[] }, tried: readonly ManagedProcess[]): ManagedProcess | null {
    const left = app.backends().filter((b) => !tried.includes(b));
    return left.length === 0 ? null : this.pick(app.name, left);
  }

  timeoutText(): string {
    return `setopsd router: the process of this app did not answer within ${this.upstreamTimeoutMs < 1000 ? `${this.upstreamTimeoutMs} ms` : `${Math.round(this.upstreamTimeoutMs / 1000)} s`}\n`;
  }
}

/** Errors of a connection to a process that failed before it answered: a request without a body goes to the next process. */
const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * One request forwarded to a process: an undici dispatch handler that writes the process's
 * status, headers and body chunks straight into the client's response (no intermediate stream),
 * with backpressure both ways. One object per request instead of a set of closures.
 */
class Forwarding implements Dispatcher.DispatchHandlers {
  /** The process of the current attempt, counted in its `inflight` until `done()`. */
  private backend: ManagedProcess | null = null;
  private abortUpstream: ((err?: Error) => void) | null = null;
  private resume: (() => void) | null = null;
  /** Processes this request was sent to and whose connection failed (made on the first retry). */
  private tried: ManagedProcess[] | null = null;
  private readonly headers: string[];

  constructor(
    private readonly router: Router,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly app: { name: string; backends(): ManagedProcess[] },
    host: string,
    private readonly hasBody: boolean,
  ) {
    this.headers = forwardedHeaders(req, host);
    res.once('close', () => {
      // The client went away before the answer ended: stop asking the process.
      if (!res.writableFinished) this.abortUpstream?.(new Error('client closed'));
      this.done();
    });
  }

  send(backend: ManagedProcess): void {
    this.done();
    this.backend = backend;
    backend.inflight++;
    this.router.poolFor(backend.port).dispatch(
      { path: this.req.url ?? '/', method: (this.req.method ?? 'GET') as Dispatcher.HttpMethod, headers: this.headers, body: this.hasBody ? this.req : null },
      this,
    );
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.res.destroyed) abort(new Error('client closed'));
  }

  onHeaders(statusCode: number, raw: Buffer[], resume: () => void, statusText: string): boolean {
    if (statusCode < 200) return true; // 1xx: the final answer follows
    this.resume = resume;
    const out: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!.toString('latin1');
      if (!isHopByHop(name)) out.push(name, raw[i + 1]!.toString('latin1'));
    }
    this.res.writeHead(statusCode, statusText, out);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.res.write(chunk)) return true;
    // Backpressure: undici pauses reading from the process until the client took what is buffered.
    this.res.once('drain', () => this.resume?.());
    return false;
  }

  onComplete(): void {
    this.res.end();
    this.done();
  }

  onError(err: Error): void {
    const backend = this.backend;
    this.done();
    const res = this.res;
    if (res.destroyed) return;
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (TIMEOUTS.has(code)) {
      text(res, 504, this.router.timeoutText());
      return;
    }
    if (RETRYABLE.has(code) && !this.hasBody && backend !== null) {
      (this.tried ??= []).push(backend);
      const next = this.router.retryTarget(this.app, this.tried);
      if (next !== null) {
        this.send(next);
        return;
      }
      text(res, 502, noHealthy(this.app.name, this.router.stageLabel));
      return;
    }
    text(res, 502, `setopsd router: app/${this.app.name} in ${this.router.stageLabel}: the process did not answer\n`);
  }

  /** Ends the count of the current attempt (once). */
  private done(): void {
    if (this.backend !== null) this.backend.inflight--;
    this.backend = null;
  }
}

/**
 * The request's headers for the process, from the raw ones (names as sent): without hop-by-hop
 * headers, with `x-forwarded-for` (appended to), `-host` and `-proto`.
 */
function forwardedHeaders(req: IncomingMessage, host: string): string[] {
  const raw = req.rawHeaders;
  const out: string[] = [];
  let prior = '';
  let forwardedHost: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (isHopByHop(name)) continue;
    if (name.length >= 15 && name.length <= 17) {
      const lower = name.toLowerCase();
      if (lower === 'x-forwarded-for') {
        prior = prior === '' ? raw[i + 1]! : `${prior}, ${raw[i + 1]!}`;
        continue;
      }
      if (lower === 'x-forwarded-host' || lower === 'x-forwarded-proto') continue;
    }
    if (forwardedHost === null && name.length === 4 && name.toLowerCase() === 'host') forwardedHost = raw[i + 1]!;
    out.push(name, raw[i + 1]!);
  }
  const client = req.socket.remoteAddress ?? '';
  out.push('x-forwarded-for', prior === '' ? client : `${prior}, ${client}`, 'x-forwarded-host', forwardedHost ?? host, 'x-forwarded-proto', 'http');
  return out;
}

/** Hop-by-hop headers (RFC 9110 7.6.1) and the ones undici sets itself; compared by length first, so most names are never lower-cased. */
function isHopByHop(name: string): boolean {
  const n = name.length;
  if (n !== 2 && n !== 6 && n !== 7 && n !== 10 && n !== 16 && n !== 17 && n !== 18 && n !== 19) return false;
  return HOP_BY_HOP.has(name.toLowerCase());
}

function noHealthy(app: string, stage: string): string {
  return `setopsd router: app/${app} in ${stage} has no healthy process right now; see setopsd status and setopsd logs --app ${app}\n`;
}

/** Counts a request in flight on `backend`; returns the function that ends it (once). */
function claim(backend: ManagedProcess): () => void {
  backend.inflight++;
  let released = false;
  return () => {
    if (!released) {
      released = true;
      backend.inflight--;
    }
  };
}

/** The request's host name: lower case, without port or trailing dot (no regular expression per request). */
function hostOf(header: string | undefined): string {
  if (header === undefined) return '';
  let end = header.length;
  const colon = header.lastIndexOf(':');
  if (colon !== -1 && header.indexOf(']', colon) === -1) end = colon;
  if (end > 0 && header.charCodeAt(end - 1) === 46 /* . */) end--;
  const name = end === header.length ? header : header.slice(0, end);
  return hasUpper(name) ? name.toLowerCase() : name;
}

function hasUpper(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return true;
  }
  return false;
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
