import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as UTF-8 text. */
  body: string;
}

export interface RequestOptions {
  /** Host header, e.g. `web.dev.shop.localhost` for the stage router (default: `127.0.0.1:PORT`). */
  host?: string;
  /** More request headers. */
  headers?: Record<string, string>;
  /** Reject when there is no complete answer after this many milliseconds (default 10 000). */
  timeoutMs?: number;
}

/**
 * `GET http://127.0.0.1:PORT/PATH` on a fresh connection (no keep-alive, so nothing stays open
 * to a process a test stops). Resolves with any status; rejects when the connection fails or
 * the answer takes longer than `timeoutMs`.
 */
export function get(port: number, path = '/', opts: RequestOptions = {}): Promise<HttpResponse> {
  return request(port, path, opts);
}

/** Like `get`, with another method and a request body (for the few tests that send one). */
export function request(port: number, path: string, opts: RequestOptions & { method?: string; body?: string } = {}): Promise<HttpResponse> {
  const { host, headers = {}, timeoutMs = 10_000, method = 'GET', body } = opts;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method, headers: { ...(host === undefined ? {} : { host }), ...headers }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`${method} ${host ?? `127.0.0.1:${port}`}${path}: no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', reject);
    req.end(body);
  });
}
