/**
 * Webhook → fetch → plan → apply start for a remote repository, against a real git smart-HTTP
 * server on 127.0.0.1 (`git http-backend`): the time from a signed GitHub push webhook being
 * sent to the apply of the pushed commit starting. Reference, in the same run: one fetch of the
 * same push with isomorphic-git alone (what any reconciler pays to see the commit).
 *
 *   node --import tsx bench/webhook.ts [--pushes 10]
 */
import { createHmac } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startDaemon } from '../src/daemon/daemon.js';
import { startHttpServer } from '../src/daemon/http/server.js';
import { createMetrics } from '../src/daemon/http/metrics.js';
import { RemoteSource } from '../src/daemon/remote-source.js';
import { remoteSource } from '../src/daemon/sources/remote.js';
import { realClock, realSleep } from '../src/sleep.js';
import type { Deps } from '../src/deps.js';
import { benchRepo, timedEngine } from './daemon-repo.js';
import { startGitHttpServer } from '../test/helpers/git-http-server.js';

const { values } = parseArgs({ options: { pushes: { type: 'string', default: '10' } } });
const pushes = Number(values.pushes);
const teardowns: (() => unknown)[] = [];
const t = { teardown: (fn: () => unknown) => void teardowns.push(fn) };
const { dir, repo, git, commit } = benchRepo('setopsd-bench-webhook-');
const server = await startGitHttpServer(t, { receivePack: true });
const bare = server.addBare('shop.git', repo);
const url = server.repoUrl('shop.git');

const SECRET = 'bench-webhook-secret';
const { engine, starts, until } = timedEngine(realSleep);
const deps: Deps = { clock: realClock, sleep: realSleep, log: pino({ level: 'silent' }), env: {}, cwd: dir, stdout: process.stdout, stderr: process.stderr, isTTY: { stdout: false, stdin: false } };
const metrics = createMetrics({ defaultMetrics: false });
const ac = new AbortController();
const stateDir = join(dir, 'state');
const daemon = await startDaemon(
  deps,
  {
    stateDir,
    source: remoteSource({ url, branch: 'main', stateDir, env: {} }),
    pollMs: 0,
    concurrency: 4,
    shutdownTimeoutMs: 1000,
    engineFactory: async () => engine,
    webhookSecret: SECRET,
    listen: (view, token) => startHttpServer({ view, listen: { host: '127.0.0.1', port: 0 }, token, log: deps.log, metrics: metrics.registry }),
  },
  ac.signal,
);
await until(1);

const reference = new RemoteSource({ url, branch: 'main', dir: join(dir, 'reference.git'), env: {} });
await reference.fetch(new AbortController().signal);
const latencies: number[] = [];
const fetches: number[] = [];
for (let i = 1; i <= pushes; i++) {
  commit(i);
  git('push', '-q', bare, 'main');
  const body = Buffer.from(JSON.stringify({ ref: 'refs/heads/main', before: '0'.repeat(40), after: git('rev-parse', 'HEAD'), repository: { clone_url: url } }));
  const sent = performance.now();
  const res = await fetch(`${daemon.url}/hooks/github`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': `d-${i}`, 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` },
    body,
  });
  await res.text();
  await until(i + 1);
  latencies.push(starts[i]! - sent);
  const f0 = performance.now();
  await reference.fetch(new AbortController().signal);
  fetches.push(performance.now() - f0);
}
ac.abort();
await daemon.stopped;
for (const fn of teardowns.reverse()) await fn();
rmSync(dir, { recursive: true, force: true });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
process.stdout.write(`webhook → fetch → plan → apply start, ${pushes} pushes: median ${median(latencies).toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms\n`);
process.stdout.write(`reference, one isomorphic-git fetch of the same push: median ${median(fetches).toFixed(0)} ms; ratio ${(median(latencies) / median(fetches)).toFixed(1)}x\n`);
