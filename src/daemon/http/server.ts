import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { UsageError } from '../../errors.js';
import type { DaemonView } from '../view.js';
import { requireBearer } from './auth.js';
import { MAX_BODY_BYTES, readBody } from './body.js';
import { EVENT_STREAM_DEFAULTS, EventStreams, type EventStreamOptions } from './events.js';
import { HttpError, STREAMED, errorReply, redact, stackFrames, type Reply } from './reply.js';
import { daemonRoutes } from './routes.js';
import { Router } from './routing.js';

/** What `startHttpServer` needs. */
export interface HttpServerOptions {
  /** The only thing the HTTP side reads and asks: the running daemon, or a hand-made one in tests. */
  view: DaemonView;
  /** Where to listen; port 0 picks a free one (see the returned `url`). */
  listen: { host: string; port: number };
  /** The API token mutations need as `Authorization: Bearer <token>`; never logged or sent back. */
  token: string;
  log: Logger;
  /** Exposed on `GET /metrics` (`createMetrics().registry`). */
  metrics: Registry;
  /** Seconds between the status page's reloads (5). */
  pageRefreshSeconds?: number;
  /** `/api/v1/events` settings (heartbeat every 15 s). */
  events?: Partial<EventStreamOptions>;
  /** The clock of the page's "generated at" (Date.now). */
  now?: () => number;
}

/** A listening server. */
export interface HttpServer {
  /** `http://host:port`, with the port actually bound. */
  url: string;
  /** Ends the event streams, stops accepting connections and resolves when the open requests are done (at most 5 s). */
  close(): Promise<void>;
}

/** How long `close` waits for requests in flight before it cuts their connections. */
const CLOSE_GRACE_MS = 5_000;

/**
 * Starts the daemon's HTTP side on node's `http`: health and readiness, Prometheus metrics, the
 * JSON API under `/api/v1` (mutations need the token), the event stream and the status page.
 * Each request is logged once at debug level (method, path, status, ms), never with its headers
 * or query. Rejects with a UsageError when the address cannot be listened on or the token is empty.
 */
export async function startHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  if (opts.token.length === 0) throw new UsageError('the daemon API token is empty; set one so that approve, retry and sync can be authorized');
  const log = opts.log.child({ component: 'http' });
  const hide = (s: string) => redact(s, opts.token);
  const streams = new EventStreams(opts.view, { ...EVENT_STREAM_DEFAULTS, ...opts.events }, hide);
  const router = new Router(
    daemonRoutes({ view: opts.view, metrics: opts.metrics, streams, refreshSeconds: opts.pageRefreshSeconds ?? 5, now: opts.now ?? Date.now }),
  );

  const server = createServer((req, res) => {
    const started = performance.now();
    const method = req.method ?? 'GET';
    const path = pathnameOf(req.url);
    res.once('close', () => {
      log.debug({ method, path: hide(path), status: res.statusCode, ms: Math.round((performance.now() - started) * 10) / 10 }, 'http request');
    });
    handle(req, res, method, path).catch((err: unknown) => {
      // handle() answers every error itself; this is a failure to write the answer.
      log.error({ method, path: hide(path), error: err instanceof Error ? err.name : typeof err }, 'http: could not answer a request');
      res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse, method: string, path: string): Promise<void> {
    let reply: Reply;
    try {
      const found = router.match(method, path);
      if (found === null) throw new HttpError(404, 'E_NOT_FOUND', `no such endpoint: ${method} ${path}`);
      if ('allowed' in found) throw new HttpError(405, 'E_METHOD_NOT_ALLOWED', `${path} allows ${found.allowed.join(', ')}`, { allow: found.allowed.join(', ') });
      if (found.route.auth === 'token') requireBearer(req.headers, opts.token);
      const body =
        method === 'POST'
          ? await readBody(req, found.route.maxBodyBytes ?? MAX_BODY_BYTES).catch((err: unknown) => {
              if (err instanceof HttpError && err.status === 413) found.route.refused?.(err);
              throw err;
            })
          : Buffer.alloc(0);
      const out = await found.route.handle({ req, res, params: found.params, query: new URL(req.url ?? '/', 'http://localhost').searchParams, body });
      if (out === STREAMED) return;
      reply = out;
    } catch (err) {
      const mapped = errorReply(err);
      if (mapped.kind === 'bug') {
        // Not a SetopsError: its message may hold anything (a URL with a password, a secret value), so only its name and frames are logged.
        log.error({ method, path: hide(path), error: err instanceof Error ? err.name : typeof err, frames: stackFrames(err) }, 'http: unexpected error (a bug in setopsd)');
      } else if (mapped.kind === 'setops') {
        log.warn({ method, path: hide(path), code: (err as { code: string }).code, message: hide((err as Error).message) }, 'http: request failed');
      }
      reply = mapped.reply;
      if (res.headersSent) {
        res.destroy();
        return;
      }
    }
    send(req, res, { ...reply, body: hide(reply.body) });
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(new UsageError(`the daemon cannot listen on ${hostPort(opts.listen.host, opts.listen.port)}: ${err.code ?? err.message}; choose another address or port`));
    };
    server.once('error', onError);
    server.listen(opts.listen.port, opts.listen.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err: NodeJS.ErrnoException) => log.error({ error: err.code ?? err.name }, 'http: server error'));
  const address = server.address() as AddressInfo;
  const url = `http://${hostPort(opts.listen.host, address.port)}`;
  log.info({ url }, 'http: listening');

  let closing: Promise<void> | null = null;
  return {
    url,
    close() {
      closing ??= new Promise<void>((resolve) => {
        streams.closeAll();
        const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

/** Writes a reply with the headers every response has. */
function send(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  const body = Buffer.from(reply.body, 'utf8');
  // A body left unread (a 413, or a 401 before reading) would be read to its end to keep the
  // connection alive; close the connection instead.
  const unread = hasBody(req) && !req.complete;
  res.writeHead(reply.status, {
    'content-type': reply.contentType,
    'content-length': String(body.length),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...reply.headers,
    ...(unread ? { connection: 'close' } : {}),
  });
  res.end(body);
  const socket = req.socket;
  if (unread) res.once('finish', () => socket.destroySoon());
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/** The path of a request URL, without its query (the query is not logged). */
function pathnameOf(url: string | undefined): string {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  const path = q === -1 ? raw : raw.slice(0, q);
  return path.startsWith('/') ? path : '/';
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
