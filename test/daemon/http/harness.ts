import { request } from 'node:http';
import { pino } from 'pino';
import { createMetrics, type DaemonMetrics } from '../../../src/daemon/http/metrics.js';
import { startHttpServer, type HttpServer, type HttpServerOptions } from '../../../src/daemon/http/server.js';
import { FakeView } from './fake-view.js';

/** A running server on 127.0.0.1 (random port) over a FakeView, with its log lines captured. */
export interface Harness {
  server: HttpServer;
  view: FakeView;
  metrics: DaemonMetrics;
  token: string;
  /** Every log line written so far, parsed. */
  logs: () => Record<string, unknown>[];
  /** Every log line as written (to search for leaks). */
  rawLogs: () => string;
}

/** Starts a server for a test and closes it in the test's teardown. */
export async function startHarness(
  t: { teardown(fn: () => unknown): void },
  over: Partial<HttpServerOptions> & { view?: FakeView } = {},
): Promise<Harness> {
  const view = over.view ?? new FakeView();
  const metrics = createMetrics({ defaultMetrics: false });
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(s) });
  const token = over.token ?? 'test-token-0123456789';
  const server = await startHttpServer({ view, listen: { host: '127.0.0.1', port: 0 }, token, log, metrics: metrics.registry, ...over });
  t.teardown(() => server.close());
  return {
    server,
    view,
    metrics,
    token,
    logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    rawLogs: () => lines.join(''),
  };
}

/** A response read whole. */
export interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: () => any;
}

/** One HTTP request with node's client (so bodies and headers are exactly what the test says). */
export function call(base: string, method: string, path: string, opts: { headers?: Record<string, string>; body?: string | Buffer; chunked?: boolean } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const length = opts.body !== undefined && !opts.chunked ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {};
    const req = request(new URL(path, base), { method, headers: { ...opts.headers, ...length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.chunked && opts.body !== undefined) {
      // Without a Content-Length: the server learns the size only as the chunks arrive.
      const body = Buffer.from(opts.body);
      for (let i = 0; i < body.length; i += 64 * 1024) req.write(body.subarray(i, i + 64 * 1024));
      req.end();
    } else req.end(opts.body);
  });
}

/** `Authorization: Bearer <token>`. */
export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** Waits until `cond()` holds, checking every 10 ms, failing after `timeoutMs`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
