import type { IncomingMessage, ServerResponse } from 'node:http';
import { SetopsError } from '../../errors.js';
import type { DaemonEvent } from '../controller.js';
import type { DaemonView } from '../view.js';
import { HttpError } from './reply.js';

/** Settings of `/api/v1/events`. */
export interface EventStreamOptions {
  /** A comment line every this many ms keeps proxies from closing an idle stream (15 s). */
  heartbeatMs: number;
  /** Streams open at once; more are refused with 503. */
  maxStreams: number;
  /** A client this far behind (bytes not yet sent) is dropped: it can reconnect and reload. */
  maxBufferedBytes: number;
}

/** The defaults of the daemon. */
export const EVENT_STREAM_DEFAULTS: EventStreamOptions = { heartbeatMs: 15_000, maxStreams: 64, maxBufferedBytes: 1024 * 1024 };

/**
 * The open Server-Sent Event streams of `/api/v1/events`: each subscribes to the view while its
 * client is connected and unsubscribes when it goes (or when the server closes).
 */
export class EventStreams {
  private readonly open = new Set<ServerResponse>();

  constructor(
    private readonly view: Pick<DaemonView, 'subscribe'>,
    private readonly opts: EventStreamOptions = EVENT_STREAM_DEFAULTS,
    /** Applied to every frame (the server passes the token redaction). */
    private readonly redact: (frame: string) => string = (frame) => frame,
  ) {}

  /** Streams open now. */
  get size(): number {
    return this.open.size;
  }

  /** Starts a stream on `res`: each DaemonEvent as `event: <type>` + `data: <json>`, a heartbeat comment every `heartbeatMs`. */
  serve(req: IncomingMessage, res: ServerResponse): void {
    if (this.open.size >= this.opts.maxStreams) throw new HttpError(503, 'E_UNAVAILABLE', `${this.opts.maxStreams} event streams are open already; try again later`, { 'retry-after': '10' });
    const send = (chunk: string) => {
      if (res.writableEnded || res.destroyed) return;
      if (res.writableLength > this.opts.maxBufferedBytes) {
        res.end();
        return;
      }
      res.write(chunk);
    };
    const unsubscribe = this.view.subscribe((event) => send(this.redact(eventFrame(event))));
    const heartbeat = setInterval(() => send(': heartbeat\n\n'), this.opts.heartbeatMs);
    heartbeat.unref();
    this.open.add(res);
    let closed = false;
    res.once('close', () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      unsubscribe();
      this.open.delete(res);
    });
    req.socket.setNoDelay(true);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // nginx and similar proxies buffer responses unless told not to.
      'x-accel-buffering': 'no',
    });
    // Sends the headers now, so a client knows it is subscribed.
    res.write(': connected\n\n');
  }

  /** Ends every stream (server shutdown); each unsubscribes as it closes. */
  closeAll(): void {
    for (const res of this.open) res.end();
  }
}

/** One event as an SSE frame. */
export function eventFrame(event: DaemonEvent): string {
  return `event: ${event.type}\ndata: ${eventJson(event)}\n\n`;
}

/**
 * An event as one line of JSON. Errors inside it (a refused apply's) become `{ code, message }`
 * like the API's errors; an error that is not a SetopsError keeps only `E_BUG`.
 */
export function eventJson(event: DaemonEvent): string {
  return JSON.stringify(event, (_key, value: unknown) => {
    if (value instanceof SetopsError) return { code: value.code, message: value.message };
    if (value instanceof Error) return { code: 'E_BUG' };
    return value;
  });
}
