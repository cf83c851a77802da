/**
 * A daemon under test: a real git repository made with the `git` command, the real sources,
 * queue, controller and HTTP server on 127.0.0.1, and in-memory engines (the real local engine
 * runs in test/daemon/local-engine.test.ts).
 */
import { startDaemon, type DaemonOptions, type RunningDaemon } from '../../src/daemon/daemon.js';
import { startHttpServer } from '../../src/daemon/http/server.js';
import { createMetrics } from '../../src/daemon/http/metrics.js';
import { readDaemonInfo } from '../../src/daemon/instance.js';
import { localRepoSource } from '../../src/daemon/sources/local-repo.js';
import { StatusRecords, type StageStatusRecord } from '../../src/state/status-record.js';
import { gitRepo, type TestRepo } from '../helpers/git.js';
import { tempDir } from '../helpers/temp.js';
import { testDeps } from '../helpers/deps.js';
import { fakeEngine } from '../operations/apply-fakes.js';
import { realClock, realSleep } from '../../src/sleep.js';
import type { Deps } from '../../src/deps.js';

/** The manifests of project acme/shop: staging, production after staging (manual unless told), app web. */
export function manifests(opts: { greeting: string; scale?: number; productionApproval?: 'auto' | 'manual'; broken?: boolean }): Record<string, string> {
  return {
    'config/setops.yaml': `apiVersion: setopsd/v1
kind: Organization
metadata: { name: acme }
spec: { provider: local }
---
apiVersion: setopsd/v1
kind: Project
metadata: { name: shop, organization: acme }
---
apiVersion: setopsd/v1
kind: Stage
metadata: { name: staging, organization: acme, project: shop }
---
apiVersion: setopsd/v1
kind: Stage
metadata: { name: production, organization: acme, project: shop }
spec: { after: staging, approval: ${opts.productionApproval ?? 'manual'} }
---
apiVersion: setopsd/v1
kind: App
metadata: { name: web, organization: acme, project: shop }
spec:
  command: node server.js
  ${opts.broken ? 'port: 70000' : 'port: 5000'}
  scale: ${opts.scale ?? 1}
  env: { GREETING: ${JSON.stringify(opts.greeting)} }
`,
  };
}

export interface DaemonUnderTest {
  repo: TestRepo;
  stateDir: string;
  engine: ReturnType<typeof fakeEngine>;
  daemon: RunningDaemon;
  stop(): Promise<void>;
  record(stage: string): Promise<StageStatusRecord | null>;
  /** Calls the daemon's API with its token from daemon.json. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
}

export async function daemonFor(
  t: { teardown(fn: () => unknown): void },
  files: Record<string, string>,
  opts: { engine?: ReturnType<typeof fakeEngine>; daemon?: Partial<DaemonOptions>; env?: Record<string, string>; log?: Deps['log']; /** Reuse a state directory (a restarted daemon). */ stateDir?: string } = {},
): Promise<DaemonUnderTest> {
  const repo = gitRepo(t, files);
  const stateDir = opts.stateDir ?? tempDir(t, 'setopsd-daemon-');
  const engine = opts.engine ?? fakeEngine();
  const deps = testDeps({ clock: realClock, sleep: realSleep, ...(opts.env ? { env: opts.env } : {}), ...(opts.log ? { log: opts.log } : {}) });
  const ac = new AbortController();
  const metrics = createMetrics({ defaultMetrics: false });
  const daemon = await startDaemon(
    deps,
    {
      stateDir,
      source: await localRepoSource({ repo: repo.dir, branch: 'main', dir: 'config' }),
      pollMs: 0,
      concurrency: 4,
      shutdownTimeoutMs: 5_000,
      engineFactory: async () => engine,
      metrics,
      listen: (view, token) => startHttpServer({ view, listen: { host: '127.0.0.1', port: 0 }, token, log: deps.log, metrics: metrics.registry }),
      ...opts.daemon,
    },
    ac.signal,
  );
  let stopped = false;
  const stop = async () => {
    if (stopped) return daemon.stopped;
    stopped = true;
    ac.abort(new Error('test done'));
    await daemon.stopped;
  };
  t.teardown(stop);
  return {
    repo,
    stateDir,
    engine,
    daemon,
    stop,
    record: (stage) => new StatusRecords(stateDir, () => Date.now()).read({ organization: 'acme', project: 'shop', stage }),
    api: async (method, path, body) => {
      const info = await readDaemonInfo(stateDir);
      const res = await fetch(new URL(path, info!.url), {
        method,
        headers: { authorization: `Bearer ${info!.token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
  };
}
