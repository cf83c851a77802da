import t from 'tap';
import { HTTP_APP, FAST_HEALTH, REF, noChanges, setup, allGone } from './helpers.js';
import { app, stage } from '../../helpers/models.js';
import { readFile } from 'node:fs/promises';
import type { Engine } from '../../../src/providers/engine.js';
import { localPaths } from '../../../src/providers/local/paths.js';
import { waitFor } from '../../helpers/wait.js';
import { get } from '../../helpers/http.js';

/** Sends requests through the router until `stop()`; counts answers by status and errors. */
function requestLoop(port: number, host: string, concurrency = 2) {
  let running = true;
  const seen = { ok: 0, failed: 0, failures: [] as string[], versions: new Set<string>() };
  const worker = async () => {
    while (running) {
      try {
        const r = await get(port, '/', { host });
        if (r.status === 200) {
          seen.ok++;
          seen.versions.add((JSON.parse(r.body) as { version: string }).version);
        } else {
          seen.failed++;
          seen.failures.push(`${r.status} ${r.body.slice(0, 200)}`);
        }
      } catch (err) {
        seen.failed++;
        seen.failures.push((err as Error).message);
      }
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  return {
    seen,
    stop: async () => {
      running = false;
      await Promise.all(workers);
      return seen;
    },
  };
}

async function pidsOf(engine: Engine, app: string): Promise<number[]> {
  const s = await engine.status!(REF);
  return (s?.apps[app]?.processes ?? []).map((p) => p.pid).sort();
}

t.test('scale 1 → 3 and an env change under load: no failed request; scale down', async (t) => {
  const { engine, io } = await setup(t);
  const v1 = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { VERSION: 'v1' } }) } });
  t.equal((await engine.apply(v1, noChanges(), io())).status, 'succeeded');
  const port = (await engine.status!(REF))!.router!.port;
  const loop = requestLoop(port, 'web.dev.shop.localhost');
  await waitFor('first answers', () => loop.seen.ok > 5, { timeoutMs: 10_000 });

  const before = await pidsOf(engine, 'web');
  const scaled = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { VERSION: 'v1' }, scale: 3 }) } });
  const r1 = await engine.apply(scaled, noChanges(), io());
  t.equal(r1.status, 'succeeded', r1.error?.message ?? '');
  const afterScale = await pidsOf(engine, 'web');
  t.equal(afterScale.length, 3, 'three processes');
  t.ok(before.every((p) => afterScale.includes(p)), 'scaling up keeps the running process');

  const v2 = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { VERSION: 'v2' }, scale: 3 }) } });
  const r2 = await engine.apply(v2, noChanges(), io());
  t.equal(r2.status, 'succeeded', r2.error?.message ?? '');
  const afterEnv = await pidsOf(engine, 'web');
  t.equal(afterEnv.length, 3);
  t.ok(afterEnv.every((p) => !afterScale.includes(p)), 'an env change replaces every process');
  t.ok(await allGone(afterScale), 'the old processes are gone');
  await waitFor('v2 answers', () => loop.seen.versions.has('v2'), { timeoutMs: 10_000 });
  const seen = await loop.stop();
  t.equal(seen.failed, 0, `no failed request (${seen.failures.slice(0, 3).join('; ')})`);
  t.ok(seen.ok > 20, `requests kept flowing (${seen.ok})`);
  t.same([...seen.versions].sort(), ['v1', 'v2']);

  const down = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { VERSION: 'v2' }, scale: 1 }) } });
  t.equal((await engine.apply(down, noChanges(), io())).status, 'succeeded');
  const afterDown = await pidsOf(engine, 'web');
  t.equal(afterDown.length, 1);
  t.ok(afterEnv.includes(afterDown[0]!), 'scaling down keeps process 0');

  const zero = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { VERSION: 'v2' }, scale: 0 }) } });
  t.equal((await engine.apply(zero, noChanges(), io())).status, 'succeeded');
  t.same(await pidsOf(engine, 'web'), [], 'scale 0 stops the app');
  t.equal((await get(port, '/', { host: 'web.dev.shop.localhost' })).status, 502, 'no healthy process: 502');
  t.ok(await allGone(afterDown));
});

t.test('a new version that never becomes healthy fails the deployment; the old one keeps serving', async (t) => {
  const { engine, io } = await setup(t);
  const v1 = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { VERSION: 'v1' }, scale: 2 }) } });
  t.equal((await engine.apply(v1, noChanges(), io())).status, 'succeeded');
  const port = (await engine.status!(REF))!.router!.port;
  const old = await pidsOf(engine, 'web');
  const loop = requestLoop(port, 'web.dev.shop.localhost', 1);

  const bad = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { VERSION: 'v2', UNHEALTHY: '1' }, scale: 2, healthCheck: { path: '/health', status: '200-399', interval: 0.1, timeout: 1, retries: 2, startPeriod: 0.5 } }) } });
  const change = { ref: REF, changes: [{ op: 'update' as const, subject: 'app/web', path: 'env.VERSION', before: 'v1', after: 'v2', dataLoss: false, command: 'setops --project shop --stage dev --app web env:set VERSION=v2' }] };
  const events = io();
  const result = await engine.apply(bad, change, events);
  t.equal(result.status, 'failed');
  t.equal(result.error?.code, 'E_UNHEALTHY');
  t.match(result.error?.message, /^app\/web in acme\/shop\/dev: process 0 of the new version did not become healthy within 1 s \(health check GET \/health expecting 200-399\)/);
  t.match(result.error?.message, /the previous version keeps serving/);
  t.same(result.applied, [], 'nothing is reported as applied');
  t.same(result.actual.model, v1, 'the recorded model stays the previous one');
  t.same(events.events.map((e) => `${e.subject} ${e.status}`), ['app/web started', 'app/web failed']);
  t.same(await pidsOf(engine, 'web'), old, 'the old processes still run');
  const seen = await loop.stop();
  t.equal(seen.failed, 0, `no failed request (${seen.failures.slice(0, 3).join('; ')})`);
  t.same([...seen.versions], ['v1'], 'only the old version answered');

  // A version that exits at start fails as a crash loop (after CRASH_LOOP_EXITS exits) or at the deadline, whichever comes first.
  const crashing = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, command: ['node', '-e', 'process.exit(1)'], scale: 2, healthCheck: { path: '/health', status: '200-399', interval: 0.1, timeout: 1, retries: 2, startPeriod: 0.8 } }) } });
  const rc = await engine.apply(crashing, noChanges(), io());
  t.equal(rc.status, 'failed');
  t.match(rc.error?.message, /(exited 3 times before becoming healthy \(last: exit code 1\)|did not become healthy within 1 s .*; it exited \d+ times?); the previous version keeps serving/);
  t.notMatch(rc.error?.message, /version v1/, 'only the output of the new process is quoted, not earlier runs in the same log');
  t.same(await pidsOf(engine, 'web'), old);

  // A command that cannot be started at all says so in the app's log.
  const missing = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, command: ['no-such-program-xyz'], scale: 2, healthCheck: { path: '/health', status: '200-399', interval: 0.1, timeout: 1, retries: 2, startPeriod: 0.5 } }) } });
  const rm = await engine.apply(missing, noChanges(), io());
  t.equal(rm.status, 'failed');
  const lines: string[] = [];
  await engine.logs!(REF, 'web', { lines: 20, follow: false, signal: new AbortController().signal, write: (x) => lines.push(x) });
  t.match(lines.join(''), /Z web\.0: setopsd: cannot start no-such-program-xyz in .*: spawn no-such-program-xyz ENOENT/);
  t.same(await pidsOf(engine, 'web'), old);

  // A failing pre-deploy command fails the deployment the same way.
  const pre = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { VERSION: 'v3' }, scale: 2, preDeploy: { command: 'echo migrating; exit 3' } }) } });
  const r2 = await engine.apply(pre, noChanges(), io());
  t.equal(r2.status, 'failed');
  t.equal(r2.error?.code, 'E_PREDEPLOY');
  t.match(r2.error?.message, /pre-deploy command exited with code 3/);
  t.same(await pidsOf(engine, 'web'), old);
  const ok = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { VERSION: 'v3' }, scale: 2, preDeploy: { command: ['node', '-e', 'console.log("migrated", !!process.env.APP_ENV_ID)'] } }) } });
  const r3 = await engine.apply(ok, noChanges(), io());
  t.equal(r3.status, 'succeeded', r3.error?.message ?? '');
  t.equal(JSON.parse((await get(port, '/', { host: 'web.dev.shop.localhost' })).body).version, 'v3');
});

t.test('a crashing process restarts with exponential backoff', async (t) => {
  const { engine, io, stateDir } = await setup(t, { backoff: { baseMs: 200, capMs: 5000 } });
  const desired = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { VERSION: 'v1', CRASH_AFTER: '1' } }) } });
  t.equal((await engine.apply(desired, noChanges(), io())).status, 'succeeded');
  const port = (await engine.status!(REF))!.router!.port;
  const restartTimes: number[] = [];
  for (let i = 1; i <= 3; i++) {
    // Each request makes the process exit right after answering.
    await waitFor(`healthy again (${i})`, async () => (await get(port, '/', { host: 'web.dev.shop.localhost' })).status === 200, { timeoutMs: 20_000 });
    const restarted = await waitFor(`restart ${i}`, async () => {
      const p = (await engine.status!(REF))!.apps.web!.processes[0]!;
      return p.restarts >= i && p.healthy ? p : null;
    }, { timeoutMs: 20_000 });
    restartTimes.push(Date.parse(restarted!.startedAt));
  }
  const s = (await engine.status!(REF))!.apps.web!.processes[0]!;
  t.equal(s.restarts, 3, 'three restarts counted');
  const logs: string[] = [];
  await engine.logs!(REF, 'web', { lines: 50, follow: false, signal: new AbortController().signal, write: (x) => logs.push(x) });
  t.equal(logs.join('').match(/crashing after 1 requests/g)?.length, 3, 'each crash is in the log');
  const supLog = await readFile(localPaths(stateDir, REF).supervisorLog, 'utf8');
  const waits = [...supLog.matchAll(/app\/web process 0 exited \(exit code 1\); restart \d+ in (\d+) ms/g)].map((m) => Number(m[1]));
  t.same(waits, [200, 400, 800], 'the wait doubles after each crash');
});

t.test('an aborted apply stops the half-started version; the old one keeps serving', async (t) => {
  const { engine, io, stateDir } = await setup(t);
  const v1 = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { VERSION: 'v1' } }) } });
  t.equal((await engine.apply(v1, noChanges(), io())).status, 'succeeded');
  const port = (await engine.status!(REF))!.router!.port;
  const old = await pidsOf(engine, 'web');
  const ctrl = new AbortController();
  const slow = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { VERSION: 'v2', SLOW_START_MS: '60000' }, healthCheck: { ...FAST_HEALTH, startPeriod: 60 } }) } });
  const pending = engine.apply(slow, noChanges(), io({ signal: ctrl.signal }));
  const pidsFile = localPaths(stateDir, REF).pidsFile;
  const started = await waitFor('the new version starting', async () => {
    const recs = JSON.parse(await readFile(pidsFile, 'utf8')) as { pid: number; role: string }[];
    return recs.find((r) => r.role === 'app/web/new');
  }, { timeoutMs: 10_000 });
  ctrl.abort();
  const result = await pending;
  t.equal(result.status, 'failed');
  t.equal(result.error?.code, 'E_CANCELED');
  t.same(result.actual.model, v1, 'the recorded state stays v1');
  await waitFor('the half-started process stopped', () => allGone([started!.pid]), { timeoutMs: 10_000 });
  t.same(await pidsOf(engine, 'web'), old, 'the old process still runs');
  t.equal(JSON.parse((await get(port, '/', { host: 'web.dev.shop.localhost' })).body).version, 'v1');
});

t.test('a health check command must pass as well as the HTTP check', async (t) => {
  const { engine, io } = await setup(t);
  const check = { ...FAST_HEALTH, startPeriod: 1, command: ['node', '-e', 'process.exit(process.env.CHECK_OK === "1" && process.env.PORT > 0 ? 0 : 1)'] };
  const ok = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { VERSION: 'v1', CHECK_OK: '1' }, healthCheck: check }) } });
  const r1 = await engine.apply(ok, noChanges(), io());
  t.equal(r1.status, 'succeeded', r1.error?.message ?? '');
  const bad = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { VERSION: 'v2', CHECK_OK: '0' }, healthCheck: check }) } });
  const r2 = await engine.apply(bad, noChanges(), io());
  t.equal(r2.status, 'failed');
  t.equal(r2.error?.code, 'E_UNHEALTHY');
  const port = (await engine.status!(REF))!.router!.port;
  t.equal(JSON.parse((await get(port, '/', { host: 'web.dev.shop.localhost' })).body).version, 'v1');
});
