import t from 'tap';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { HTTP_APP, FIXTURES, REF, localDeps, noChanges, setup, allGone } from './helpers.js';
import { app, stage } from '../../helpers/models.js';
import { localPaths } from '../../../src/providers/local/paths.js';
import { createLocalEngine } from '../../../src/providers/local/index.js';
import { freePort } from '../../../src/providers/local/proc.js';
import { isRunning } from '../../../src/providers/local/proc.js';
import { waitFor } from '../../helpers/wait.js';
import { get, request } from '../../helpers/http.js';

t.test('a public app answers through the router by Host header; destroy leaves no process', async (t) => {
  const { engine, io, stateDir } = await setup(t);
  const desired = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { VERSION: 'v1' }, domains: { 'shop.example.test': { primary: true } } }) } });
  const result = await engine.apply(desired, noChanges(), io());
  t.equal(result.status, 'succeeded', result.error?.message ?? '');
  t.equal(result.actual.serial, '1');
  t.same((await engine.read(REF)).model, desired, 'the desired model is recorded');

  const status = await engine.status!(REF);
  t.ok(status?.router, 'status shows the router');
  const port = status!.router!.port;
  t.equal(status!.apps.web!.url, `http://web.dev.shop.localhost:${port}/`);
  t.equal(status!.apps.web!.processes.length, 1);
  t.equal(status!.apps.web!.processes[0]!.healthy, true);

  const res = await get(port, '/', { host: `web.dev.shop.localhost:${port}` });
  t.equal(res.status, 200);
  const body = JSON.parse(res.body) as { version: string; forwardedHost: string };
  t.equal(body.version, 'v1');
  t.equal(body.forwardedHost, `web.dev.shop.localhost:${port}`);
  t.same(res.headers['set-cookie'], ['a=1', 'b=2'], 'multi-valued headers are kept');

  const custom = await get(port, '/', { host: 'shop.example.test' });
  t.equal(custom.status, 200, 'custom domains route to the app');

  const echo = await request(port, '/echo', { host: 'web.dev.shop.localhost', method: 'POST', body: 'x'.repeat(100_000), headers: { 'content-type': 'text/plain' } });
  t.equal(echo.status, 201);
  t.equal(echo.body.length, 100_000, 'request and response bodies are streamed through');

  const unknown = await get(port, '/', { host: 'nope.dev.shop.localhost' });
  t.equal(unknown.status, 404);
  t.match(unknown.body, /no public app answers to host "nope\.dev\.shop\.localhost"/);
  t.match(unknown.body, /web\.dev\.shop\.localhost/);

  const upgraded = await new Promise<string>((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port }, () => sock.write('GET /ws HTTP/1.1\r\nHost: web.dev.shop.localhost\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n'));
    let got = '';
    sock.on('data', (d) => {
      got += d.toString();
      if (got.includes('\r\n\r\n') && !got.includes('ping')) sock.write('ping');
      if (got.endsWith('ping')) {
        sock.end();
        resolve(got);
      }
    });
    sock.on('error', reject);
  });
  t.match(upgraded, /^HTTP\/1\.1 101 Switching Protocols\r\n[\s\S]*\r\n\r\nping$/, 'connection upgrades (WebSockets) are tunnelled');

  const env = await get(port, '/env?key=APP_ENV_ID', { host: 'web.dev.shop.localhost' });
  t.equal(env.body, 'web.dev.shop');

  const logs: string[] = [];
  await engine.logs!(REF, 'web', { lines: 10, follow: false, signal: new AbortController().signal, write: (s) => logs.push(s) });
  t.match(logs.join(''), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z web\.0: listening on \d+ version v1$/m, 'each line has its time and process');

  const pids = status!.apps.web!.processes.map((p) => p.pid);
  const rerouted = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { VERSION: 'v1' }, domains: { 'other.example.test': { primary: true } } }) } });
  const r2 = await engine.apply(rerouted, noChanges(), io());
  t.equal(r2.status, 'succeeded', r2.error?.message ?? '');
  t.same((await engine.status!(REF))!.apps.web!.processes.map((p) => p.pid), pids, 'a domain change does not restart processes');
  t.equal((await get(port, '/', { host: 'other.example.test' })).status, 200, 'the new domain routes');
  t.equal((await get(port, '/', { host: 'shop.example.test' })).status, 404, 'the old domain no longer does');
  const sup = JSON.parse(await readFile(localPaths(stateDir, REF).supervisorFile, 'utf8')) as { pid: number };
  const destroyed = await engine.destroy(REF, io());
  t.equal(destroyed.status, 'succeeded', destroyed.error?.message ?? '');
  t.equal(destroyed.actual.model, null);
  t.ok(await allGone([...pids, sup.pid]), 'no app process or supervisor is left');
  t.equal(await engine.status!(REF), null, 'nothing runs after destroy');
  t.notOk(await isRunning(sup.pid));
  t.ok(FIXTURES);
});

t.test('re-applying the same model changes nothing; removing an app stops it; a failing health check takes a process out of rotation', async (t) => {
  const { engine, io } = await setup(t);
  const desired = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { VERSION: 'v1' } }), api: app({ ...HTTP_APP, env: { VERSION: 'api' } }) } });
  t.equal((await engine.apply(desired, noChanges(), io())).status, 'succeeded');
  const s1 = (await engine.status!(REF))!;
  const port = s1.router!.port;
  const again = io();
  const r = await engine.apply(desired, noChanges(), again);
  t.equal(r.status, 'succeeded');
  t.same(again.events, [], 'nothing to report');
  const s2 = (await engine.status!(REF))!;
  t.same(s2.apps.web!.processes.map((p) => p.pid), s1.apps.web!.processes.map((p) => p.pid), 'no process restarted');

  const apiPids = s2.apps.api!.processes.map((p) => p.pid);
  const without = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { VERSION: 'v1' } }) } });
  const change = { ref: REF, changes: [{ op: 'delete' as const, subject: 'app/api', dataLoss: false, command: 'setops --project shop --stage dev app:destroy api' }] };
  const removed = io();
  t.equal((await engine.apply(without, change, removed)).status, 'succeeded');
  t.same(removed.events.map((e) => `${e.subject} ${e.status}`), ['app/api started', 'app/api succeeded']);
  t.ok(await allGone(apiPids), 'the removed app stopped');
  t.equal((await get(port, '/', { host: 'api.dev.shop.localhost' })).status, 404);
  t.same(Object.keys((await engine.status!(REF))!.apps), ['web']);

  // A process that fails its health check `retries` times leaves the rotation until it passes again.
  const proc = (await engine.status!(REF))!.apps.web!.processes[0]!;
  await get(proc.port, '/sick', { host: 'direct' });
  await waitFor('unhealthy', async () => !(await engine.status!(REF))!.apps.web!.processes[0]!.healthy, { timeoutMs: 10_000 });
  t.equal((await get(port, '/', { host: 'web.dev.shop.localhost' })).status, 502, 'no healthy process: 502');
  await get(proc.port, '/well', { host: 'direct' });
  await waitFor('back in rotation', async () => (await get(port, '/', { host: 'web.dev.shop.localhost' })).status === 200, { timeoutMs: 10_000 });
  t.equal((await engine.status!(REF))!.apps.web!.processes[0]!.pid, proc.pid, 'the same process');
});

t.test('the router port is kept across applies and moves when another one is configured', async (t) => {
  const { engine, io, stateDir } = await setup(t);
  const desired = stage({ name: 'dev', apps: { web: app(HTTP_APP) } });
  t.equal((await engine.apply(desired, noChanges(), io())).status, 'succeeded');
  const first = (await engine.status!(REF))!.router!.port;
  t.equal((await engine.apply(desired, noChanges(), io())).status, 'succeeded');
  t.equal((await engine.status!(REF))!.router!.port, first, 'same port on the next apply');

  const wanted = await freePort();
  const configured = createLocalEngine({ stateDir, deps: localDeps({ SETOPSD_ROUTER_PORT: String(wanted) }), organization: { name: REF.organization, provider: 'local' } });
  const r = await configured.apply(desired, noChanges(), io());
  t.equal(r.status, 'succeeded', r.error?.message ?? '');
  t.equal((await engine.status!(REF))!.router!.port, wanted, 'SETOPSD_ROUTER_PORT moves the router');
  t.equal((await get(wanted, '/', { host: 'web.dev.shop.localhost' })).status, 200);
  await t.rejects(get(first, '/', { host: 'web.dev.shop.localhost' }), 'the old port is closed');
  const paths = localPaths(stateDir, REF);
  t.same(JSON.parse(await readFile(paths.routerFile, 'utf8')), { port: wanted }, 'router.json records the new port');
  t.equal((JSON.parse(await readFile(paths.supervisorFile, 'utf8')) as { routerPort: number }).routerPort, wanted, 'supervisor.json too');
});
