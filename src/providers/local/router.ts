import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'upgrade']);
const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE']);

/** Tunables of the router's upstream side. */
export interface RouterOptions {
  /** A process that sends nothing for this long (no headers, or a stalled body) gets a 504 (ms). */
  upstreamTimeoutMs?: number;
  /** Idle keep-alive connections kept open per process. */
  idleConnections?: number;
}

/** Upstream defaults: generous for slow endpoints, but never forever. */
const UPSTREAM_TIMEOUT_MS = 60_000;
/** Idle pooled connections close before a Node server's default 5 s keep-alive timeout would close them under us. */
const IDLE_CLOSE_MS = 4000;

/**
 * The stage's HTTP router: routes by Host header to healthy processes of public apps,
 * round-robin; streams bodies both ways; 404 for unknown hosts, 502 when an app has no
 * healthy process. A request without a body is retried on the next process when a
 * connection to one fails before any response (a process that just died).
 */
export class Router {
  private server: Server | null = null;
  private readonly next = new Map<string, number>();
  /** Keep-alive pools, one per process (host:port), shared by every request to it. */
  private readonly agent: Agent;
  private readonly upstreamTimeoutMs: number;

  constructor(private readonly table: RouteTable, opts: RouterOptions = {}) {
    this.upstreamTimeoutMs = opts.upstreamTimeoutMs ?? UPSTREAM_TIMEOUT_MS;
    this.agent = new Agent({ keepAlive: true, maxFreeSockets: opts.idleConnections ?? 64, scheduling: 'lifo', timeout: IDLE_CLOSE_MS });
  }

  /** Starts listening on 127.0.0.1:port (0: any free port); returns the port. */
  listen(port: number): Promise<number> {
    const server = createServer((req, res) => this.handle(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    server.keepAliveTimeout = 5000;
    this.server = server;
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
    this.agent.destroy();
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
    const app = this.table.appFor(hostOf(req));
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
    const host = hostOf(req);
    const app = this.table.appFor(host);
    if (app === null) {
      const known = this.table.hosts();
      text(res, 404,
        `setopsd router for stage ${this.table.stageLabel}: no public app answers to host "${host}".\n` +
          (known.length === 0 ? 'This stage has no public app.\n' : `Known hosts:\n${known.map((h) => `  ${h}`).join('\n')}\n`) +
          `Send the app's host name in the Host header, e.g. curl -H "Host: ${known[0] ?? 'APP.STAGE.PROJECT.localhost'}" http://127.0.0.1:${req.socket.localPort ?? 'PORT'}/\n`);
      return;
    }
    const hasBody = req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0' || req.headers['transfer-encoding'] !== undefined;
    const tried = new Set<ManagedProcess>();
    const attempt = (): void => {
      const backends = app.backends().filter((b) => !tried.has(b));
      if (backends.length === 0) {
        text(res, 502, `setopsd router: app/${app.name} in ${this.table.stageLabel} has no healthy process right now; see setopsd status and setopsd logs --app ${app.name}\n`);
        return;
      }
      const backend = this.pick(app.name, backends);
      tried.add(backend);
      this.forward(req, res, backend, host, hasBody, (retry) => {
        if (retry && !hasBody && !res.headersSent) attempt();
        else if (!res.headersSent) text(res, 502, `setopsd router: app/${app.name} in ${this.table.stageLabel}: the process did not answer\n`);
        else res.destroy();
      });
    };
    attempt();
  }

  private forward(req: IncomingMessage, res: ServerResponse, backend: ManagedProcess, host: string, hasBody: boolean, fail: (retryable: boolean) => void): void {
    const release = claim(backend);
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    }
    const prior = req.headers['x-forwarded-for'];
    const client = req.socket.remoteAddress ?? '';
    headers['x-forwarded-for'] = typeof prior === 'string' && prior !== '' ? `${prior}, ${client}` : client;
    headers['x-forwarded-host'] = req.headers.host ?? host;
    headers['x-forwarded-proto'] = 'http';
    let timedOut = false;
    const upstream = request(
      { host: '127.0.0.1', port: backend.port, method: req.method, path: req.url, headers, agent: this.agent, timeout: this.upstreamTimeoutMs },
      (up) => {
        const raw: string[] = [];
        for (let i = 0; i < up.rawHeaders.length; i += 2) {
          const name = up.rawHeaders[i]!;
          if (!HOP_BY_HOP.has(name.toLowerCase())) raw.push(name, up.rawHeaders[i + 1]!);
        }
        res.writeHead(up.statusCode ?? 502, up.statusMessage, raw);
        up.pipe(res);
        up.on('error', () => res.destroy());
        res.on('close', () => {
          release();
          if (!up.complete) up.destroy();
        });
      },
    );
    // While a request is in flight its socket has the upstream timeout (the agent's is for idle ones).
    upstream.on('timeout', () => {
      timedOut = true;
      upstream.destroy(new Error('upstream timeout'));
    });
    upstream.on('error', (err) => {
      release();
      if (timedOut) {
        if (!res.headersSent) text(res, 504, `setopsd router: the process of this app did not answer within ${this.upstreamTimeoutMs < 1000 ? `${this.upstreamTimeoutMs} ms` : `${Math.round(this.upstreamTimeoutMs / 1000)} s`}\n`);
        else res.destroy();
        return;
      }
      // A pooled connection the process closed just as it was reused is as good as refused.
      fail(RETRYABLE.has((err as NodeJS.ErrnoException).code ?? '') || (upstream.reusedSocket && (err as NodeJS.ErrnoException).code === 'ECONNRESET'));
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    if (hasBody) req.pipe(upstream);
    else upstream.end();
  }
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

/** The request's host name: lower case, without port or trailing dot. */
function hostOf(req: IncomingMessage): string {
  return (req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
