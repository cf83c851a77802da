import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { get } from '../helpers/http.js';
import type { Teardown } from '../helpers/temp.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The example app's processes as the local engine runs them (node, PORT, DATABASE_URL), without
 * a database: the engine's own tests cover them against a real PostgreSQL. Here: ports, health,
 * routing, failure answers when the database is unreachable, and clean SIGTERM shutdown.
 */
const appDir = fileURLToPath(new URL('../../examples/app/', import.meta.url));

async function start(t: Teardown, script: string, env: Record<string, string>): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, [script], { cwd: appDir, env: { PATH: process.env.PATH, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on port (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`${script} exited with ${code} before listening: ${out}`)));
  });
  return { port, child };
}

/** GET PATH from the app, its JSON body parsed. */
async function getJson(port: number, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await get(port, path);
  return { status: res.status, body: JSON.parse(res.body) as Record<string, unknown> };
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function exitOnSigterm(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  child.kill('SIGTERM');
  return exited;
}

t.test('web without a database: / and /healthz answer, unknown paths 404, SIGTERM exits 0', async (t) => {
  const { port, child } = await start(t, 'server.js', { GREETING: 'hi' });
  t.strictSame(await getJson(port, '/'), { status: 200, body: { app: 'web', greeting: 'hi', database: null } });
  t.strictSame(await getJson(port, '/healthz'), { status: 200, body: { status: 'ok' } });
  t.equal((await getJson(port, '/nope')).status, 404);
  t.equal(await exitOnSigterm(child), 0);
});

t.test('web with an unreachable database: 503 on / and /healthz, without the URL in the answer', async (t) => {
  const url = `postgresql://shop:s3cret-pw@127.0.0.1:${await closedPort()}/shop`;
  const { port, child } = await start(t, 'server.js', { DATABASE_URL: url });
  for (const path of ['/', '/healthz']) {
    const r = await getJson(port, path);
    t.equal(r.status, 503, path);
    t.match(String(r.body.error), /^database unavailable: ECONNREFUSED/);
    t.notMatch(JSON.stringify(r.body), /s3cret-pw/, 'no password in the answer');
  }
  t.equal(await exitOnSigterm(child), 0);
});

t.test('worker: serves its health on $PORT and beats', async (t) => {
  const { port, child } = await start(t, 'worker.js', { WORKER_INTERVAL_MS: '20' });
  const beats = await waitFor('two heartbeats', async () => {
    const r = await getJson(port, '/healthz');
    t.equal(r.status, 200);
    const n = Number(r.body.beats);
    return n >= 2 ? n : undefined;
  }, { timeoutMs: 60_000, intervalMs: 20 });
  t.ok(beats >= 2, 'the worker keeps beating');
  t.equal(await exitOnSigterm(child), 0);
});

t.test('worker with an unreachable database reports unhealthy', async (t) => {
  const url = `postgresql://shop:pw@127.0.0.1:${await closedPort()}/shop`;
  const { port, child } = await start(t, 'worker.js', { DATABASE_URL: url, WORKER_INTERVAL_MS: '20' });
  const status = await waitFor('an unhealthy answer', async () => {
    const { status } = await getJson(port, '/healthz');
    return status === 503 ? status : undefined;
  }, { timeoutMs: 60_000, intervalMs: 20 });
  t.equal(status, 503);
  t.equal(await exitOnSigterm(child), 0);
});
