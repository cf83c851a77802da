import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { Test } from 'tap';
import type { AppModel, StageRef } from '../../../src/model/stage-model.js';
import type { ApplyIO, Engine, ProgressEvent, SecretResolver } from '../../../src/providers/engine.js';
import type { Changeset } from '../../../src/model/changeset.js';
import { createLocalEngine, type LocalEngineOptions } from '../../../src/providers/local/index.js';
import { testDeps } from '../../helpers/deps.js';
import type { Deps } from '../../../src/deps.js';
import { realClock, realSleep } from '../../../src/sleep.js';
import { isRunning } from '../../../src/providers/local/proc.js';
import { localPaths } from '../../../src/providers/local/paths.js';
import { tempDir } from '../../helpers/temp.js';

export const FIXTURES = resolve(fileURLToPath(new URL('../../fixtures/local-apps', import.meta.url)));
export const REF: StageRef = { organization: 'acme', project: 'shop', stage: 'dev' };

/** Short health checks and backoff so the tests run fast. */
export const FAST_HEALTH = { path: '/health', status: '200-399', interval: 0.2, timeout: 1, retries: 3, startPeriod: 3 };

/**
 * The fields these tests' apps share: they run the HTTP fixture (fixtures/local-apps/http-app.mjs)
 * from the config root, are public, and have short health checks. Spread into app():
 * `app({ ...HTTP_APP, env: { VERSION: 'v1' } })`.
 */
export const HTTP_APP: Partial<AppModel> = { command: ['node', 'http-app.mjs'], workdir: '.', public: true, healthCheck: FAST_HEALTH };

export function noChanges(ref: StageRef = REF): Changeset {
  return { ref, changes: [] };
}

/**
 * Deps for the local engine in tests: the real clock and sleep (it waits for real processes) and
 * this process's environment, read live (a test may change PATH; the supervisor inherits it),
 * with `env` over it and without SETOPSD_ROUTER_PORT (tests choose their router ports).
 */
export function localDeps(env: Record<string, string | undefined> = {}): Deps {
  const live = new Proxy(process.env, {
    get: (target, key) => (typeof key === 'string' && key in env ? env[key] : key === 'SETOPSD_ROUTER_PORT' ? undefined : Reflect.get(target, key)),
  });
  return testDeps({ clock: realClock, sleep: realSleep, env: live });
}

/** A temp state dir and an engine on it; tears down every process at the end of the test. */
export async function setup(t: Test, opts: LocalEngineOptions = {}): Promise<{ stateDir: string; engine: Engine; io: (over?: Partial<ApplyIO>) => ApplyIO & { events: ProgressEvent[] } }> {
  const stateDir = tempDir(t, 'setopsd-local-');
  const engine = createLocalEngine(
    { stateDir, deps: localDeps(), organization: { name: REF.organization, provider: 'local' } },
    { backoff: { baseMs: 100, capMs: 1000 }, stopGraceMs: 3000, ...opts },
  );
  t.teardown(async () => {
    await engine.destroy(REF, makeIO({ allowDataLoss: true })).catch(() => {});
    await killRecorded(stateDir);
  });
  return { stateDir, engine, io: (over = {}) => makeIO(over) };
}

/** Kills whatever a test left (last resort; the test fails separately when processes leak). */
async function killRecorded(stateDir: string): Promise<void> {
  const paths = localPaths(stateDir, REF);
  try {
    const info = JSON.parse(await readFile(paths.supervisorFile, 'utf8')) as { pid: number };
    process.kill(info.pid, 'SIGKILL');
  } catch {
    // none
  }
  try {
    for (const r of JSON.parse(await readFile(paths.pidsFile, 'utf8')) as { pid: number }[]) {
      try {
        process.kill(-r.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  } catch {
    // none
  }
}

export function makeIO(over: Partial<ApplyIO> = {}): ApplyIO & { events: ProgressEvent[] } {
  const events: ProgressEvent[] = [];
  const secrets: SecretResolver = { get: async (name) => { throw new Error(`no secret ${name}`); } };
  return {
    signal: new AbortController().signal,
    log: pino({ level: 'silent' }),
    progress: (e) => events.push(e),
    allowDataLoss: false,
    secrets,
    configRoot: FIXTURES,
    deployment: { number: 1, commit: null, trigger: 'test' },
    events,
    ...over,
  };
}

/** Every pid a stage's status reports, plus the supervisor. */
export async function stagePids(engine: Engine): Promise<number[]> {
  const s = await engine.status!(REF);
  if (s === null) return [];
  return Object.values(s.apps).flatMap((a) => a.processes.map((p) => p.pid));
}

export async function allGone(pids: number[]): Promise<boolean> {
  for (const pid of pids) if (await isRunning(pid)) return false;
  return true;
}
