import t, { type Test } from 'tap';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Router } from '../../../src/providers/local/router.js';
import type { ManagedProcess } from '../../../src/providers/local/managed-process.js';
import { get } from '../../helpers/http.js';

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

async function router(t: Test, port: number, opts: ConstructorParameters<typeof Router>[1] = {}): Promise<number> {
  const proc = { port, inflight: 0 } as unknown as ManagedProcess;
  const r = new Router({ stageLabel: 'acme/shop/dev', appFor: (h) => (h === 'web.dev.shop.localhost' ? { name: 'web', backends: () => [proc] } : null), hosts: () => ['web.dev.shop.localhost'] }, opts);
  t.teardown(() => r.close());
  return r.listen(0);
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
