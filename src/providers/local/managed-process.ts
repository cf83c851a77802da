import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, openSync, closeSync, fstatSync } from 'node:fs';
import type { AppSpec } from './protocol.js';
import { probe } from './health.js';
import { freePort, isRunning, terminateGroup } from './proc.js';
import type { LocalDeps } from './local-deps.js';

/** Exits without ever becoming healthy after which a new process fails its deployment at once. */
export const CRASH_LOOP_EXITS = 3;

/** What a managed process needs from its supervisor. */
export interface ProcessHost {
  /** Full environment of a process (base, app env, links, PORT…, owner marker). */
  envFor(spec: AppSpec, port: number, index: number): Record<string, string>;
  logFile(app: string, index: number): string;
  /** Called whenever a pid appears or disappears, so it can be recorded. */
  pidsChanged(): void;
  /** One line in the supervisor's log; `fields` become keys of its JSON line (app, index, pid). */
  log(line: string, fields?: Record<string, unknown>): void;
  /** Backoff bounds in ms (tests shorten them). */
  backoff: { baseMs: number; capMs: number };
  /** Grace between SIGTERM and SIGKILL, ms. */
  stopGraceMs: number;
  /** Clock and sleep for deadlines, backoff and polls. */
  deps: LocalDeps;
}

/**
 * One unit of an app's scale: a supervised process that restarts with exponential backoff
 * when it exits, and is probed for health. It takes traffic (is `serving`) only when it is
 * `admitted` by a deployment and healthy.
 */
export class ManagedProcess {
  pid = 0;
  port = 0;
  healthy = false;
  admitted = false;
  restarts = 0;
  startedAt = '';
  /** Exits before the process was ever healthy (a crash loop when it reaches CRASH_LOOP_EXITS). */
  exitsBeforeHealthy = 0;
  /** How the last run ended (`exit code 1`, `signal SIGKILL`), or why it could not start. */
  lastExit: string | null = null;
  /** Set when the process cannot be started at all (bad program, invalid environment): retrying cannot help. */
  startError: string | null = null;
  /** Size of the process log when this process first started: its own output begins there. */
  logOffset: number | null = null;
  private everHealthy = false;
  /** Requests the router has in flight to this process. */
  inflight = 0;
  /** A process runs now (spawned or adopted). */
  private live = false;
  private stopped = false;
  private readonly loopDone: Promise<void>;
  private wake: (() => void) | null = null;
  private readonly ctrl = new AbortController();

  constructor(
    readonly spec: AppSpec,
    readonly index: number,
    readonly generation: number,
    private readonly host: ProcessHost,
    /** An already running process (left by an earlier supervisor) to supervise instead of starting one. */
    private adopted?: { pid: number; port: number },
  ) {
    this.loopDone = this.loop().catch((err) => host.log(`app/${spec.name} process ${index}: supervision stopped: ${(err as Error).message}`, this.fields()));
  }

  /** The structured fields of this process's lines in the supervisor log. */
  private fields(): Record<string, unknown> {
    return { app: this.spec.name, index: this.index, ...(this.pid > 0 ? { pid: this.pid } : {}) };
  }

  /** Whether the router may send requests here. */
  get serving(): boolean {
    return this.admitted && this.healthy && !this.stopped;
  }

  /** It cannot start, or it exited CRASH_LOOP_EXITS times without ever becoming healthy. */
  get failing(): boolean {
    return !this.everHealthy && (this.startError !== null || this.exitsBeforeHealthy >= CRASH_LOOP_EXITS);
  }

  /** Waits until healthy; false when `timeoutMs` passes, the process is `failing`, or the signal aborts first. */
  async waitHealthy(timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    const { clock, sleep } = this.host.deps;
    const deadline = clock.now() + timeoutMs;
    while (!this.healthy) {
      if (signal.aborted || this.stopped || this.failing || clock.now() >= deadline) return false;
      await sleep(Math.min(50, Math.max(1, deadline - clock.now()))).catch(() => {});
    }
    return true;
  }

  /** Stops taking traffic, lets requests in flight finish (bounded), then terminates the process group. */
  async stop(): Promise<void> {
    if (this.stopped) return this.loopDone;
    this.stopped = true;
    this.ctrl.abort();
    const { clock, sleep } = this.host.deps;
    const drainUntil = clock.now() + this.host.stopGraceMs;
    while (this.inflight > 0 && clock.now() < drainUntil) await sleep(20);
    this.wake?.();
    const pid = this.pid;
    if (this.live && pid > 0) await terminateGroup(pid, this.host.stopGraceMs, this.host.deps);
    await this.loopDone;
  }

  private async loop(): Promise<void> {
    const { spec, index, host } = this;
    let streak = 0;
    while (!this.stopped) {
      let exited: Promise<void>;
      if (this.adopted !== undefined) {
        exited = this.adoptOnce(this.adopted.pid, this.adopted.port);
        this.adopted = undefined;
      } else {
        this.port = await freePort();
        if (this.stopped) break;
        exited = this.spawnOnce();
      }
      const healthyFor = await this.watch(exited);
      if (this.stopped) break;
      if (!this.everHealthy) this.exitsBeforeHealthy++;
      // It exited on its own: restart with exponential backoff; a long healthy run resets the streak.
      if (healthyFor > 30_000) streak = 0;
      const wait = Math.min(host.backoff.capMs, host.backoff.baseMs * 2 ** streak);
      streak++;
      this.restarts++;
      host.log(`app/${spec.name} process ${index} exited (${this.lastExit ?? 'unknown'}); restart ${this.restarts} in ${wait} ms`, { ...this.fields(), exit: this.lastExit });
      await this.pause(wait);
    }
  }

  /** Waits `ms`, or less when woken (`stop`, or the process exited during a health-check pause). */
  private async pause(ms: number): Promise<void> {
    const woken = new AbortController();
    this.wake = () => woken.abort();
    await this.host.deps.sleep(ms, woken.signal).catch(() => {});
    this.wake = null;
  }

  /** Supervises a process that is not our child: its exit is noticed by polling. */
  private adoptOnce(pid: number, port: number): Promise<void> {
    this.pid = pid;
    this.port = port;
    this.live = true;
    this.startedAt = new Date(this.host.deps.clock.now()).toISOString();
    this.healthy = false;
    this.host.pidsChanged();
    return (async () => {
      while (await isRunning(pid)) await this.host.deps.sleep(250);
      this.live = false;
      this.healthy = false;
      this.pid = 0;
      this.host.pidsChanged();
    })();
  }

  /** Starts the process; resolves when it exits. */
  private spawnOnce(): Promise<void> {
    const { spec, index, host } = this;
    const fd = openSync(host.logFile(spec.name, index), 'a');
    this.logOffset ??= fstatSync(fd).size;
    let child: ChildProcess;
    try {
      child = spawn(spec.argv[0]!, spec.argv.slice(1), {
        cwd: spec.cwd,
        env: host.envFor(spec, this.port, index),
        detached: true,
        stdio: ['ignore', fd, fd],
      });
    } catch (err) {
      // Thrown before any process exists (e.g. an env value with a NUL byte): it never can start.
      this.cannotStart((err as Error).message);
      return Promise.resolve();
    } finally {
      closeSync(fd);
    }
    this.live = child.pid !== undefined;
    this.pid = child.pid ?? 0;
    this.startedAt = new Date(host.deps.clock.now()).toISOString();
    this.healthy = false;
    host.pidsChanged();
    return new Promise<void>((resolve) => {
      child.on('error', (err) => {
        this.cannotStart(err.message);
        resolve();
      });
      child.on('exit', (code, sig) => {
        this.lastExit = code !== null ? `exit code ${code}` : `signal ${sig ?? '?'}`;
        resolve();
      });
    }).then(() => {
      this.live = false;
      this.healthy = false;
      this.pid = 0;
      host.pidsChanged();
    });
  }

  /** Records (in the supervisor's log and the process log) why the process cannot start. */
  private cannotStart(message: string): void {
    const { spec, index, host } = this;
    // Node's message for an invalid env value quotes the value (maybe a secret): cut it off.
    const reason = message.replace(/\. Received [\s\S]*$/, '');
    const line = `setopsd: cannot start ${spec.argv[0]} in ${spec.cwd}: ${reason}`;
    this.startError = reason;
    this.lastExit = `cannot start: ${reason}`;
    host.log(`app/${spec.name} process ${index}: ${line}`, this.fields());
    try {
      appendFileSync(host.logFile(spec.name, index), `${line}\n`);
    } catch {
      // the log is best effort
    }
  }

  /** Probes health until the process exits or is stopped; returns how long it was healthy (ms). */
  private async watch(exited: Promise<void>): Promise<number> {
    let gone = false;
    void exited.then(() => {
      gone = true;
      this.wake?.();
    });
    const hc = this.spec.healthCheck;
    const target = () => ({
      protocol: this.spec.protocol,
      port: this.port,
      healthCheck: hc,
      cwd: this.spec.cwd,
      env: this.host.envFor(this.spec, this.port, this.index),
    });
    let healthySince = 0;
    let failures = 0;
    while (!gone && !this.stopped) {
      const ok = await probe(target(), this.ctrl.signal).catch(() => false);
      if (gone || this.stopped) break;
      if (ok) {
        failures = 0;
        if (!this.healthy) {
          this.healthy = true;
          this.everHealthy = true;
          healthySince = this.host.deps.clock.now();
        }
      } else if (this.healthy && ++failures >= Math.max(1, hc.retries)) {
        this.healthy = false;
        this.host.log(`app/${this.spec.name} process ${this.index} failed ${failures} health checks; out of rotation until it passes again`, this.fields());
      }
      // Probe fast until first healthy, then at the check's interval.
      const next = this.healthy ? hc.interval * 1000 : Math.min(hc.interval * 1000, 100);
      await this.pause(Math.max(10, next));
    }
    await (this.stopped ? Promise.race([exited, this.host.deps.sleep(0)]) : exited);
    return healthySince === 0 ? 0 : this.host.deps.clock.now() - healthySince;
  }
}
