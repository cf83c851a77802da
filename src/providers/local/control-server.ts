import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { EngineError } from '../../errors.js';
import { toWire } from './control.js';
import { matchCall, routeOf, type ControlCall, type ControlRequest, type ReplyOf, type RequestOf } from './control-routes.js';

/** What a handler gets besides its request. */
export interface CallContext {
  /** Aborts when the engine goes away before the answer is sent (its apply was killed). */
  signal: AbortSignal;
  /** Runs `fn` once the answer has been sent completely (shutdown exits then). */
  afterReply(fn: () => void): void;
}

/** The supervisor's side of the control API: one handler per call of `CONTROL_ROUTES`. */
export type ControlHandlers = { [K in ControlCall]: (request: RequestOf<K>, ctx: CallContext) => Promise<ReplyOf<K>> };

/** What the control server needs from its supervisor. */
export interface ControlServerOptions {
  /** The bearer token every call must carry. */
  token: string;
  /** The stage (`org/project/stage`), for the refusal while shutting down. */
  stageLabel: string;
  /** Whether the supervisor is shutting down: every call but `ping` is refused then. */
  closing(): boolean;
  handlers: ControlHandlers;
}

/**
 * The control API's HTTP server (not listening yet). A call without the token is answered 401,
 * an unknown call 404, a failed one 500; errors travel as `{ error: toWire(err) }`.
 */
export function createControlServer(o: ControlServerOptions): Server {
  return createServer((req, res) => void handle(o, req, res));
}

function authorized(req: IncomingMessage, token: string): boolean {
  const got = Buffer.from(req.headers.authorization ?? '');
  const want = Buffer.from(`Bearer ${token}`);
  return got.length === want.length && timingSafeEqual(got, want);
}

type AnyHandler = (request: ControlRequest, ctx: CallContext) => Promise<unknown>;

async function handle(o: ControlServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const send = (status: number, body: unknown) => {
    if (res.writableEnded || res.destroyed) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  if (!authorized(req, o.token)) return send(401, { error: toWire(new EngineError('unauthorized', { code: 'E_LOCAL_UNAUTHORIZED' })) });
  const ctrl = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) ctrl.abort(new Error('the engine went away'));
  });
  try {
    const url = new URL(req.url ?? '/', 'http://control');
    const body = await readJson(req);
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const matched = matchCall(req.method ?? '', parts);
    if (o.closing() && matched?.call !== 'ping') throw new EngineError(`the supervisor of ${o.stageLabel} is shutting down; retry`, { code: 'E_LOCAL_CONTROL' });
    if (matched === null) return send(404, { error: toWire(new EngineError(`unknown control call ${req.method} /${parts.join('/')}`, { code: 'E_LOCAL_CONTROL' })) });
    const request: ControlRequest = { params: matched.params, query: routeOf(matched.call).query?.decode(url.searchParams), body };
    const after: (() => void)[] = [];
    const handler = o.handlers[matched.call] as AnyHandler;
    const reply = await handler(request, { signal: ctrl.signal, afterReply: (fn) => void after.push(fn) });
    send(200, reply);
    for (const fn of after) res.on('finish', fn);
  } catch (err) {
    send(500, { error: toWire(err) });
  }
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(text === '' ? null : JSON.parse(text));
      } catch (err) {
        reject(err);
      }
    });
  });
}
