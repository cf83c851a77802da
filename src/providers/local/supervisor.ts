import { pino, type Logger } from 'pino';
import type { Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rm, stat, truncate } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { removeTornTemps, writeFileAtomic } from '../../state/atomic.js';
import { pidAlive } from '../../pid.js';
import { hashOf } from '../../model/canonical.js';
import { EngineError } from '../../errors.js';
import { stageKey, type StageRef } from '../../model/stage-model.js';
import { AppRunner, processKey } from './app-runner.js';
import { linkEnv } from './links.js';
import { type LocalPaths, processLogFile } from './paths.js';
import { CONTROL_PROTOCOL, OWNER_ENV, ROLE_ENV, type AppSpec, type DeployAllReply, type DesiredRuntime, type PidRecord, type StatusReport, type SupervisorInfo } from './protocol.js';
import { toWire } from './control.js';
import { recordStamps, type StampState } from './log-stamps.js';
import { findByCwd, findMarked, groupOf, isRecordedProcess, startTimeOf, terminateGroup } from './proc.js';
import { Router, type RouteTable } from './router.js';
import { Services } from './services.js';
import { createControlServer, type ControlHandlers } from './control-server.js';
import { AppSchedules } from './schedules.js';
import type { LocalDeps } from './local-deps.js';

/** Tunables of a supervisor (tests shorten the waits). */
export interface SupervisorOptions {
  /** Router port; 0 or absent: the port recorded for the stage, else a free one. */
  routerPort?: number;
  backoff: { baseMs: number; capMs: number };
  stopGraceMs: number;
}

/** Apps of one apply that start (and are health-checked) at the same time. */
const APP_START_CONCURRENCY = 4;

/** Runs `fn` over `items`, at most `limit` at a time. */
async function forEachBounded<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Size above which a log file is rotated (bytes). */
const LOG_LIMIT = 20 * 1024 * 1024;

/** Variables from the supervisor's own environment that app processes inherit. */
const BASE_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'SHELL'];

/**
 * The stage supervisor: one detached process per stage that owns every process of the stage
 * (apps, redis-server, the embedded PostgreSQL server), routes HTTP to public apps, and takes
 * orders from engines over a token-protected control API on 127.0.0.1. It records what it runs
 * (`desired.json`, `pids.json`) so that a supervisor started after a crash stops the orphans of
 * its predecessor and brings the last deployed state back.
 */
export class Supervisor {
  private readonly apps = new Map<string, AppRunner>();
  private readonly services: Services;
  private router: Router;
  private readonly routes: RouteTable;
  private control: Server | null = null;
  private routerPort = 0;
  private info: SupervisorInfo | null = null;
  private readonly token = randomBytes(24).toString('hex');
  private queue: Promise<unknown> = Promise.resolve();
  private desired: DesiredRuntime = { formatVersion: 1, apps: {}, services: {} };
  private pidsWrite: Promise<void> = Promise.resolve();
  private pidsDirty = false;
  private closing = false;
  private readonly schedules: AppSchedules;
  readonly label: string;
  readonly owner: string;
  private readonly logger: Logger;

  constructor(
    private readonly paths: LocalPaths,
    private readonly ref: StageRef,
    private readonly opts: SupervisorOptions,
    /** Clock, sleep, and the environment app processes take `BASE_ENV` from. */
    private readonly deps: LocalDeps,
    private readonly onExit: (code: number) => void,
  ) {
    this.label = stageKey(ref);
    this.logger = pino(
      { base: { stage: this.label, supervisor: process.pid }, timestamp: () => `,"time":"${new Date(deps.clock.now()).toISOString()}"` },
      pino.destination({ fd: 1, sync: true }),
    );
    this.owner = resolve(paths.stageDir);
    this.services = new Services(paths, {
      stageLabel: this.label,
      owner: this.owner,
      stateDir: resolve(paths.stageDir, '..', '..', '..', '..'),
      log: (l) => this.log(l),
      pidsChanged: () => this.pidsChanged(),
      deps,
    });
    this.routes = {
      stageLabel: this.label,
      appFor: (host) => {
        for (const runner of this.apps.values()) if (runner.spec?.hosts.includes(host)) return runner;
        return null;
      },
      hosts: () => [...this.apps.values()].flatMap((r) => r.spec?.hosts ?? []).sort(),
    };
    this.router = new Router(this.routes);
    // Scheduled tasks (schedules.ts): a run gets the env of an app process, without a port.
    this.schedules = new AppSchedules({
      paths,
      processOf: (app) => {
        const spec = this.desired.apps[app];
        if (spec === undefined) return null;
        const { PORT: _p, PORTS: _ps, ...env } = this.envFor(spec, 0, -1);
        return { env, cwd: spec.cwd };
      },
      log: (l) => this.log(l),
      deps,
      ...(opts.stopGraceMs !== undefined ? { stopGraceMs: opts.stopGraceMs } : {}),
    });
  }

  /**
   * One pino JSON line in supervisor.log (stdout), with the stage and this supervisor's pid, and
   * `fields` (an app process's `app`, `index`, `pid`) as keys of their own.
   */
  log(line: string, fields?: Record<string, unknown>): void {
    if (fields === undefined) this.logger.info(line);
    else this.logger.info(fields, line);
  }



  /** Stops orphans, starts router and control API, writes supervisor.json, restores the recorded state. */
  async start(): Promise<void> {
    await mkdir(this.paths.localDir, { recursive: true, mode: 0o700 });
    await mkdir(this.paths.logsDir, { recursive: true });
    for (const name of await removeTornTemps(this.paths.localDir, pidAlive)) this.log(`removed ${name}, a torn write of a killed process`);
    this.desired = await this.readDesired();
    const adoptable = await this.stopOrphans();
    this.routerPort = await this.router.listen(await this.chooseRouterPort());
    const controlPort = await this.listenControl();
    this.info = { pid: process.pid, controlPort, token: this.token, routerPort: this.routerPort, stage: this.ref, startedAt: new Date(this.deps.clock.now()).toISOString() };
    await this.recordPorts();
    this.log(`supervisor ${process.pid} for ${this.label}: router on http://127.0.0.1:${this.routerPort}, control on 127.0.0.1:${controlPort}`);
    void this.serialized(() => this.restore(adoptable)).catch((err) => this.log(`restore failed: ${(err as Error).message}`));
    void this.serialized(() => this.schedules.restore());
    this.watchdog();
    this.rotateLogs();
    this.stampLogs();
  }

  /** Notes every second how far each app log has grown, so `setopsd logs` can date its lines (`log-stamps.ts`). */
  private stampLogs(): void {
    const state: StampState = new Map();
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      void recordStamps(this.paths.logsDir, state, this.deps.clock.now())
        .catch((err) => this.log(`log stamps: ${(err as Error).message}`))
        .finally(() => void (busy = false));
    }, 1000);
    timer.unref();
  }

  /**
   * Keeps every log of the stage under LOG_LIMIT bytes: a larger one is copied to `<name>.1`
   * (replacing the previous copy) and truncated. Processes write with O_APPEND, so they carry on
   * at the new end (copytruncate).
   */
  private rotateLogs(): void {
    const timer = setInterval(() => {
      void (async () => {
        for (const name of await readdir(this.paths.logsDir).catch(() => [] as string[])) {
          if (!name.endsWith('.log')) continue;
          const file = join(this.paths.logsDir, name);
          const size = (await stat(file).catch(() => null))?.size ?? 0;
          if (size <= LOG_LIMIT) continue;
          await copyFile(file, `${file}.1`);
          await truncate(file, 0);
        }
      })().catch((err) => this.log(`log rotation: ${(err as Error).message}`));
    }, 30_000);
    timer.unref();
  }

  /**
   * Exits when this supervisor is no longer the stage's: its supervisor.json was removed (stage
   * destroyed, state directory deleted) or names another process.
   */
  private watchdog(): void {
    const timer = setInterval(() => {
      void readFile(this.paths.supervisorFile, 'utf8')
        .then((text) => (JSON.parse(text) as SupervisorInfo).pid === process.pid)
        .catch(() => false)
        .then(async (mine) => {
          if (mine || this.closing) return;
          clearInterval(timer);
          this.log(`supervisor ${process.pid}: ${this.paths.supervisorFile} is gone or names another process; stopping`);
          await this.shutdown(false).catch(() => {});
          this.onExit(0);
        });
    }, 2000);
    timer.unref();
  }

  /** Stops everything and exits (SIGTERM/SIGINT, or the control API). */
  async shutdown(dropData: boolean): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.log(`supervisor ${process.pid}: shutting down${dropData ? ' and removing service data' : ''}`);
    this.schedules.stopAll();
    await Promise.all([...this.apps.values()].map((a) => a.stop()));
    this.apps.clear();
    await this.services.stopAll(dropData);
    await this.router.close();
    await this.flushPids();
    await rm(this.paths.supervisorFile, { force: true });
    if (dropData) await rm(this.paths.desiredFile, { force: true });
    // The control server closes with the process (the shutdown call still needs its answer).
    this.control?.close();
  }

  /** Moves the router to another port (configured port changed); the old one serves until the new one listens. */
  private async moveRouter(port: number): Promise<void> {
    if (port === this.routerPort) return;
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new EngineError(`stage ${this.label}: invalid router port ${port}`, { code: 'E_LOCAL_INVALID' });
    const next = new Router(this.routes);
    try {
      await next.listen(port);
    } catch (err) {
      throw new EngineError(`stage ${this.label}: the router cannot listen on 127.0.0.1:${port}: ${(err as Error).message}; it stays on port ${this.routerPort}`, { code: 'E_ROUTER_PORT' });
    }
    const old = this.router;
    this.router = next;
    this.routerPort = port;
    if (this.info) this.info = { ...this.info, routerPort: port };
    await this.recordPorts();
    this.log(`router moved to http://127.0.0.1:${port}`);
    await old.close();
  }

  /** Records the router port (router.json) and this supervisor (supervisor.json, with the token: 0600). */
  private async recordPorts(): Promise<void> {
    await writeFileAtomic(this.paths.routerFile, JSON.stringify({ port: this.routerPort }) + '\n');
    if (this.info) await writeFileAtomic(this.paths.supervisorFile, JSON.stringify(this.info, null, 2) + '\n', 0o600);
  }

  private async chooseRouterPort(): Promise<number> {
    if (this.opts.routerPort) return this.opts.routerPort;
    try {
      const recorded = JSON.parse(await readFile(this.paths.routerFile, 'utf8')) as { port?: number };
      if (recorded.port) {
        // Keep the recorded port; when it is taken now, fall back to a new one.
        const probe = new Router({ stageLabel: '', appFor: () => null, hosts: () => [] });
        try {
          await probe.listen(recorded.port);
          await probe.close();
          return recorded.port;
        } catch {
          this.log(`router port ${recorded.port} is taken; using a new port`);
        }
      }
    } catch {
      // first start
    }
    return 0;
  }

  private async readDesired(): Promise<DesiredRuntime> {
    try {
      const d = JSON.parse(await readFile(this.paths.desiredFile, 'utf8')) as DesiredRuntime;
      if (d.formatVersion === 1) return d;
    } catch {
      // nothing deployed yet
    }
    return { formatVersion: 1, apps: {}, services: {} };
  }

  private async writeDesired(): Promise<void> {
    await writeFileAtomic(this.paths.desiredFile, JSON.stringify(this.desired) + '\n', 0o600);
  }

  /** Brings back what was deployed before this supervisor started (after a crash or reboot). */
  private async restore(adoptable: Map<string, { index: number; pid: number; port: number }[]>): Promise<void> {
    const signal = new AbortController().signal;
    for (const name of Object.keys(this.desired.services).sort()) {
      await this.services.ensure(this.desired.services[name]!, signal).catch((err) => this.log(`restore ${name}: ${(err as Error).message}`));
    }
    for (const pid of this.services.unadopted()) await terminateGroup(pid, this.opts.stopGraceMs, this.deps);
    for (const name of Object.keys(this.desired.apps).sort()) {
      const spec = this.desired.apps[name]!;
      const running = adoptable.get(name) ?? [];
      if (running.length > 0) {
        this.log(`adopting app/${name} processes ${running.map((r) => `${r.index} (pid ${r.pid})`).join(', ')} left by an earlier supervisor`);
        this.runner(name).adopt(spec, running);
      }
      await this.runner(name).deploy(spec, signal, { restore: true }).catch((err) => this.log(`restore app/${name}: ${(err as Error).message}`));
    }
  }

  /**
   * Handles the processes an earlier supervisor of this stage left (recorded in pids.json, or
   * found in /proc by this stage's owner marker, so a reused pid is never touched): app processes
   * that run exactly the recorded spec are kept for adoption (returned by app), every other one
   * (a half-started deployment, redis-server, anything unknown) is stopped.
   */
  private async stopOrphans(): Promise<Map<string, { index: number; pid: number; port: number }[]>> {
    let records: PidRecord[] = [];
    try {
      records = JSON.parse(await readFile(this.paths.pidsFile, 'utf8')) as PidRecord[];
    } catch {
      // nothing recorded
    }
    const orphans = new Map<number, string>();
    for (const r of records) if (r.pid !== process.pid && (await isRecordedProcess(r, OWNER_ENV, this.owner))) orphans.set(r.pid, r.role);
    for (const m of await findMarked(OWNER_ENV, this.owner)) orphans.set(m.pid, m.role);
    const adoptable = new Map<string, { index: number; pid: number; port: number }[]>();
    for (const r of records) {
      const m = /^app\/([^/]+)\/(\d+)$/.exec(r.role);
      const spec = m ? this.desired.apps[m[1]!] : undefined;
      if (!m || !spec || !orphans.has(r.pid) || r.port === undefined || r.spec !== hashOf(processKey(spec)) || Number(m[2]) >= spec.scale) continue;
      const list = adoptable.get(m[1]!) ?? [];
      if (list.some((x) => x.index === Number(m[2]))) continue;
      list.push({ index: Number(m[2]), pid: r.pid, port: r.port });
      adoptable.set(m[1]!, list);
      orphans.delete(r.pid);
    }
    // redis-server: recognised by its data directory (its environment is overwritten, see findByCwd).
    const redis = new Map<string, number>();
    for (const r of await findByCwd('redis-server', this.paths.redisDir)) {
      const name = r.cwd.slice(this.paths.redisDir.length + 1).split('/')[0]!;
      if (this.desired.services[name]?.type === 'redis' && !redis.has(name)) {
        redis.set(name, r.pid);
        orphans.delete(r.pid);
      } else {
        orphans.set(r.pid, `redis/${name}`);
      }
    }
    this.services.offerAdoption(redis);
    // Children of an adopted process (a shell-form command's program) carry the marker too.
    const adoptedPids = new Set([...adoptable.values()].flat().map((a) => a.pid));
    for (const pid of [...orphans.keys()]) if (adoptedPids.has(await groupOf(pid))) orphans.delete(pid);
    await Promise.all([...orphans].map(async ([pid, role]) => {
      this.log(`stopping orphan ${role} (pid ${pid}) left by an earlier supervisor`);
      await terminateGroup(pid, this.opts.stopGraceMs, this.deps);
    }));
    return adoptable;
  }

  private runner(name: string): AppRunner {
    let r = this.apps.get(name);
    if (r === undefined) {
      r = new AppRunner(name, {
        subject: `app/${name} in ${this.label}`,
        envFor: (spec, port, index) => this.envFor(spec, port, index),
        logFile: (app, index) => processLogFile(this.paths, app, index),
        preDeployLog: (app) => join(this.paths.logsDir, `${app}.predeploy.log`),
        pidsChanged: () => this.pidsChanged(),
        log: (l, f) => this.log(l, f),
        backoff: this.opts.backoff,
        stopGraceMs: this.opts.stopGraceMs,
        deps: this.deps,
      });
      this.apps.set(name, r);
    }
    return r;
  }

  private envFor(spec: AppSpec, port: number, index: number): Record<string, string> {
    const env: Record<string, string> = {};
    for (const k of BASE_ENV) {
      const v = this.deps.env[k];
      if (v !== undefined) env[k] = v;
    }
    Object.assign(env, spec.env, linkEnv(spec.links, this.services.allConnections()));
    env.PORT = String(port);
    env.PORTS = String(port);
    env.PROTOCOL = spec.protocol;
    env.APP_ENV_ID = `${spec.name}.${this.ref.stage}.${this.ref.project}`;
    env[OWNER_ENV] = this.owner;
    env[ROLE_ENV] = `app/${spec.name}/${index}`;
    return env;
  }

  private pidsChanged(): void {
    if (this.pidsDirty) return;
    this.pidsDirty = true;
    this.pidsWrite = this.pidsWrite.then(async () => {
      this.pidsDirty = false;
      const records: PidRecord[] = [];
      for (const r of this.apps.values()) {
        for (const p of r.processes) if (p.pid > 0) records.push({ pid: p.pid, role: `app/${r.name}/${p.index}`, port: p.port, spec: hashOf(processKey(p.spec)) });
      }
      // Processes of a deployment in progress are not in `processes` yet: record them through the pid list of each runner.
      for (const r of this.apps.values()) for (const pid of r.pendingPids()) records.push({ pid, role: `app/${r.name}/new` });
      records.push(...this.services.pids());
      records.sort((a, b) => a.pid - b.pid);
      for (const r of records) {
        const start = await startTimeOf(r.pid);
        if (start !== null) r.start = start;
      }
      await writeFileAtomic(this.paths.pidsFile, JSON.stringify(records) + '\n').catch((err) => this.log(`cannot record pids: ${(err as Error).message}`));
    });
  }

  private async flushPids(): Promise<void> {
    this.pidsChanged();
    await this.pidsWrite;
  }

  /** Runs one control operation at a time. */
  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  async status(): Promise<StatusReport> {
    const apps: StatusReport['apps'] = {};
    for (const name of [...this.apps.keys()].sort()) {
      const r = this.apps.get(name)!;
      if (r.spec === null) continue;
      apps[name] = { hosts: r.spec.hosts, public: r.spec.public, processes: r.report() };
    }
    return { pid: process.pid, routerPort: this.routerPort, apps, services: await this.services.report() };
  }

  private listenControl(): Promise<number> {
    const server = createControlServer({ token: this.token, stageLabel: this.label, closing: () => this.closing, handlers: this.handlers() });
    this.control = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const a = server.address();
        resolve(typeof a === 'object' && a !== null ? a.port : 0);
      });
    });
  }

  /** What each control call does (see `control-routes.ts`); every call that changes something runs serialized. */
  private handlers(): ControlHandlers {
    return {
      ping: async () => ({ pid: process.pid, stage: this.ref, protocol: CONTROL_PROTOCOL }),
      status: async () => this.status(),
      moveRouter: ({ query }) =>
        this.serialized(async () => {
          await this.moveRouter(query.port);
          return { routerPort: this.routerPort };
        }),
      // Status after every control call queued before (including the restore after a start).
      sync: () => this.serialized(async () => this.status()),
      putService: ({ body: spec }, { signal }) =>
        this.serialized(async () => {
          await this.services.ensure(spec, signal);
          this.desired.services[spec.name] = spec;
          await this.writeDesired();
          return { ok: true };
        }),
      deleteService: ({ params: { name }, query }) =>
        this.serialized(async () => {
          delete this.desired.services[name];
          await this.writeDesired();
          await this.services.remove(name, query.dropData, query.type);
          return { ok: true };
        }),
      putApp: ({ body: spec, query }, { signal }) =>
        this.serialized(async () => {
          const outcome = await this.runner(spec.name).deploy(spec, signal, { restart: query.restart });
          this.desired.apps[spec.name] = spec;
          await this.writeDesired();
          return { outcome, processes: this.runner(spec.name).report() };
        }),
      putApps: ({ body }, { signal }) =>
        this.serialized(async () => {
          const results: DeployAllReply['results'] = {};
          await forEachBounded(body.apps, APP_START_CONCURRENCY, async (spec) => {
            try {
              const outcome = await this.runner(spec.name).deploy(spec, signal, { restart: body.restart?.includes(spec.name) === true });
              this.desired.apps[spec.name] = spec;
              results[spec.name] = { outcome, processes: this.runner(spec.name).report() };
              this.log(`app/${spec.name}: deployment ${outcome}`, { app: spec.name, outcome });
            } catch (err) {
              results[spec.name] = { error: toWire(err) };
              this.log(`app/${spec.name}: deployment failed: ${(err as Error).message}`, { app: spec.name, code: (err as { code?: string }).code });
            }
          });
          await this.writeDesired();
          return { results };
        }),
      deleteApp: ({ params: { name } }) =>
        this.serialized(async () => {
          delete this.desired.apps[name];
          await this.writeDesired();
          const r = this.apps.get(name);
          this.apps.delete(name);
          await r?.stop();
          return { ok: true };
        }),
      putSchedules: ({ params: { name }, body }) =>
        this.serialized(async () => {
          await this.schedules.put(name, body.schedules);
          return { ok: true };
        }),
      shutdown: async ({ query }, { afterReply }) => {
        await this.serialized(() => this.shutdown(query.dropData));
        afterReply(() => this.onExit(0));
        return { ok: true };
      },
    };
  }
}
