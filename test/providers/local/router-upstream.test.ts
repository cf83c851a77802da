import t, { type Test } from 'tap';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Router } from '../../../src/providers/local/router.js';
import type { ManagedProcess } from '../../../src/providers/local/managed-process.js';
import { get, request } from '../../helpers/http.js';

/** A backend process stand-in: a real HTTP server on 127.0.0.1 counting its connections. */
async function backend(t: Test, handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; port: number; connections: () => number }> {
  let connections = 0;
  const server = createServer(handler);
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => {
    server.close(() => r());
    server.closeAllConnections();
  }));
  return { server, port: (server.address() as AddressInfo).port, connections: () => connections };
}

async function router(t: Test, port: number | number[], opts: ConstructorParameters<typeof Router>[1] = {}): Promise<number> {
  return (await routerOver(t, port, opts)).port;
}

/** The stage router over processes on `ports` (host web.dev.shop.localhost); the processes' stand-ins, to read `inflight`. */
async function routerOver(t: Test, ports: number | number[], opts: ConstructorParameters<typeof Router>[1] = {}): Promise<{ port: number; procs: ManagedProcess[] }> {
  const procs = [ports].flat().map((port) => ({ port, inflight: 0 }) as unknown as ManagedProcess);
  const r = new Router({ stageLabel: 'acme/shop/dev', appFor: (h) => (h === 'web.dev.shop.localhost' ? { name: 'web', backends: () => procs } : null), hosts: () => ['web.dev.shop.localhost'] }, opts);
  t.teardown(() => r.close());
  return { port: await r.listen(0), procs };
}

/** A port nothing listens on (a process that just died). */
async function deadPort(t: Test): Promise<number> {
  const b = await backend(t, () => {});
  await new Promise<void>((r) => b.server.close(() => r()));
  return b.port;
}

t.test('the router keeps upstream connections alive: 50 requests, one connection to the process', async (t) => {
  const b = await backend(t, (req, res) => res.end(`hello ${req.headers.connection ?? ''}`));
  const port = await router(t, b.port);
  for (let i = 0; i < 50; i++) {
    const r = await get(port, '/', { host: 'web.dev.shop.localhost' });
    t.equal(r.status, 200);
  }
  t.equal(b.connections(), 1, 'one pooled connection served every request');
});

t.test('a process that does not answer gets a 504 after the upstream timeout; the router goes on', async (t) => {
  const b = await backend(t, (req, res) => {
    if (req.url === '/slow') return; // never answers
    res.end('ok');
  });
  const port = await router(t, b.port, { upstreamTimeoutMs: 300 });
  const slow = await get(port, '/slow', { host: 'web.dev.shop.localhost' });
  t.equal(slow.status, 504);
  t.match(slow.body, /the process of this app did not answer within 300 ms/);
  t.equal((await get(port, '/', { host: 'web.dev.shop.localhost' })).body, 'ok');
});

t.test('a request without a body goes to the next process when one refuses the connection; none left: 502', async (t) => {
  const live = await backend(t, (_req, res) => res.end('from the live one'));
  const dead = await deadPort(t);
  const { port, procs } = await routerOver(t, [dead, live.port]);
  for (let i = 0; i < 4; i++) {
    const r = await get(port, '/', { host: 'web.dev.shop.localhost' });
    t.same([r.status, r.body], [200, 'from the live one'], `request ${i + 1}, whichever process round-robin picks first`);
  }
  t.same(procs.map((p) => p.inflight), [0, 0], 'every attempt counted out of inflight again');
  const none = await router(t, [dead]);
  const r = await get(none, '/', { host: 'web.dev.shop.localhost' });
  t.equal(r.status, 502);
  t.match(r.body, /app\/web in acme\/shop\/dev has no healthy process right now; see setopsd status/);
});

t.test('bodies stream both ways; hop-by-hop headers stay behind; x-forwarded-* are set', async (t) => {
  let seen: { method?: string; headers: Record<string, unknown>; body: string } | null = null;
  const b = await backend(t, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      seen = { method: req.method, headers: req.headers, body };
      // No content-length: chunked from the process, framed again by the router.
      res.writeHead(201, { 'x-app': 'web', 'keep-alive': 'timeout=99', 'set-cookie': ['a=1', 'b=2'] });
      res.write('part 1, ');
      setTimeout(() => res.end('part 2'), 20);
    });
  });
  const port = await router(t, b.port);
  const r = await request(port, '/orders?x=1', {
    method: 'POST',
    host: 'Web.Dev.Shop.Localhost:8080',
    body: 'a'.repeat(100_000),
    headers: { 'x-forwarded-for': '203.0.113.9', 'proxy-authorization': 'Basic c2VjcmV0', 'content-type': 'text/plain' },
  });
  t.equal(r.status, 201);
  t.equal(r.body, 'part 1, part 2');
  t.equal(r.headers['x-app'], 'web');
  t.same(r.headers['set-cookie'], ['a=1', 'b=2'], 'repeated headers stay repeated');
  t.equal(r.headers['keep-alive'], undefined, "the process's keep-alive header is not passed on");
  t.equal(seen!.method, 'POST');
  t.equal(seen!.body.length, 100_000, 'the whole body reached the process');
  t.match(seen!.headers, { host: 'Web.Dev.Shop.Localhost:8080', 'x-forwarded-for': '203.0.113.9, 127.0.0.1', 'x-forwarded-host': 'Web.Dev.Shop.Localhost:8080', 'x-forwarded-proto': 'http', 'content-type': 'text/plain' });
  t.equal(seen!.headers['proxy-authorization'], undefined, 'hop-by-hop request headers stay at the router');
});
