import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { canonicalJson } from '../../model/canonical.js';
import { CanceledError, EngineError } from '../../errors.js';
import type { AppSpec, DeployOutcome, ProcessReport } from './protocol.js';
import { ManagedProcess, type ProcessHost } from './managed-process.js';
import { signalGroup, waitGone } from './proc.js';

/** Seconds a new process may take to become healthy: `startPeriod + retries × interval` (at least 1 s). */
export function healthDeadlineMs(spec: AppSpec): number {
  const hc = spec.healthCheck;
  return Math.max(1000, (hc.startPeriod + hc.retries * hc.interval) * 1000);
}

/**
 * Two specs run the same processes: they differ at most in scale (processes are added or
 * removed, the others keep running) and in routing (host names, public), which the router reads
 * from the current spec without touching any process.
 */
function sameProcesses(a: AppSpec, b: AppSpec): boolean {
  return processKey(a) === processKey(b);
}

/** What makes an app's processes what they are (not scale, not routing). */
export function processKey(spec: AppSpec): string {
  return canonicalJson({ ...spec, scale: 0, hosts: [], public: false });
}

/**
 * Runs one app: its current processes and its deployments. A deployment of a changed spec is
 * blue/green per app: the new processes start one by one and must each become healthy while the
 * old ones keep serving; only when all are healthy does traffic move to them, and then the old
 * processes drain and stop. Any failure (pre-deploy command, health, abort) stops the new
 * processes and leaves the old version serving untouched.
 */
export class AppRunner {
  spec: AppSpec | null = null;
  processes: ManagedProcess[] = [];
  private generation = 0;
  /** Processes of a deployment in progress, not serving yet. */
  private pending: ManagedProcess[] = [];

  constructor(
    readonly name: string,
    private readonly host: ProcessHost & { subject: string; preDeployLog(app: string): string },
  ) {}

  /** What serves while a deployment fails: the previous version, if there is one. */
  private fallback(): string {
    return this.spec !== null && this.processes.length > 0 ? 'the previous version keeps serving' : 'no previous version of the app was running';
  }

  /** Healthy, admitted processes (the router's backends), by index. */
  backends(): ManagedProcess[] {
    return this.processes.filter((p) => p.serving);
  }

  /** Converges to `spec` (`restore`: re-start a recorded spec after a supervisor restart, without pre-deploy; `restart`: new processes even for the same spec, blue/green).  Throws an EngineError (old version still serving) on failure. */
  async deploy(spec: AppSpec, signal: AbortSignal, opts: { restore?: boolean; restart?: boolean } = {}): Promise<DeployOutcome> {
    const current = this.spec;
    if (current !== null && sameProcesses(current, spec) && !(opts.restart === true && spec.scale > 0)) {
      if (current.scale === spec.scale && this.processes.length === spec.scale) {
        if (canonicalJson(current) === canonicalJson(spec)) return 'unchanged';
        this.spec = spec;
        return 'rerouted';
      }
      await this.scaleTo(spec, signal);
      return 'scaled';
    }
    if (spec.preDeploy !== undefined && spec.scale > 0 && opts.restore !== true) await this.runPreDeploy(spec, signal);
    const indexes = Array.from({ length: spec.scale }, (_, i) => i);
    const fresh = await this.startHealthy(spec, indexes, ++this.generation, signal);
    const old = this.processes;
    this.processes = fresh;
    this.spec = spec;
    this.host.pidsChanged();
    for (const p of old) await p.stop();
    return 'replaced';
  }

  /**
   * Takes over processes of `spec` that an earlier supervisor started and left running (same
   * spec, verified by the caller); a following `deploy(spec)` starts whatever is missing.
   */
  adopt(spec: AppSpec, running: { index: number; pid: number; port: number }[]): void {
    const generation = ++this.generation;
    this.processes = running
      .filter((r) => r.index < spec.scale)
      .sort((a, b) => a.index - b.index)
      .map((r) => {
        const p = new ManagedProcess(spec, r.index, generation, this.host, { pid: r.pid, port: r.port });
        p.admitted = true;
        return p;
      });
    this.spec = spec;
    this.host.pidsChanged();
  }

  /** Stops every process (drained). */
  async stop(): Promise<void> {
    const old = this.processes;
    this.processes = [];
    await Promise.all(old.map((p) => p.stop()));
    this.host.pidsChanged();
  }

  /** Pids of processes being started by a deployment in progress. */
  pendingPids(): number[] {
    return this.pending.map((p) => p.pid).filter((pid) => pid > 0);
  }

  report(): ProcessReport[] {
    return this.processes.map((p) => ({
      index: p.index,
      pid: p.pid,
      port: p.port,
      healthy: p.healthy,
      serving: p.serving,
      restarts: p.restarts,
      startedAt: p.startedAt,
      generation: p.generation,
    }));
  }

  private async scaleTo(spec: AppSpec, signal: AbortSignal): Promise<void> {
    const keep = this.processes.filter((p) => p.index < spec.scale);
    const drop = this.processes.filter((p) => p.index >= spec.scale);
    const generation = this.processes[0]?.generation ?? ++this.generation;
    const missing = Array.from({ length: spec.scale }, (_, i) => i).filter((index) => !keep.some((p) => p.index === index));
    const added = await this.startHealthy(spec, missing, generation, signal);
    this.processes = [...keep, ...added].sort((a, b) => a.index - b.index);
    this.spec = spec;
    this.host.pidsChanged();
    for (const p of drop) await p.stop();
  }

  /**
   * Starts processes `indexes` of `spec` one after another, each healthy before the next starts,
   * and admits them; on a failure (or cancel) stops the ones it started and throws.
   */
  private async startHealthy(spec: AppSpec, indexes: readonly number[], generation: number, signal: AbortSignal): Promise<ManagedProcess[]> {
    const started: ManagedProcess[] = [];
    this.pending = started;
    try {
      for (const index of indexes) {
        const p = new ManagedProcess(spec, index, generation, this.host);
        started.push(p);
        await this.awaitHealthy(p, spec, signal);
      }
    } catch (err) {
      await Promise.all(started.map((p) => p.stop()));
      throw err;
    } finally {
      this.pending = [];
    }
    for (const p of started) p.admitted = true;
    return started;
  }

  private async awaitHealthy(p: ManagedProcess, spec: AppSpec, signal: AbortSignal): Promise<void> {
    const limit = healthDeadlineMs(spec);
    const ok = await p.waitHealthy(limit, signal);
    if (signal.aborted) throw new CanceledError(`${this.host.subject}: deployment canceled; ${this.fallback()}`);
    if (!ok && p.failing) {
      const log = this.host.logFile(spec.name, p.index);
      const tail = maskEnv(await tailOf(log, 5, p.logOffset ?? 0), spec);
      const why = p.startError !== null ? `could not start: ${p.startError}` : `exited ${p.exitsBeforeHealthy} times before becoming healthy (last: ${p.lastExit ?? 'unknown'})`;
      throw new EngineError(
        `${this.host.subject}: process ${p.index} of the new version ${why}; ${this.fallback()}. ` +
          `${tail ? `Last output: ${tail.split('\n').join(' | ')}` : 'It wrote no output'} (full log: ${log})`,
        { code: 'E_UNHEALTHY', data: { app: spec.name, index: p.index, restarts: p.restarts, lastExit: p.lastExit, tail } },
      );
    }
    if (!ok) {
      const tail = maskEnv(await tailOf(this.host.logFile(spec.name, p.index)), spec);
      throw new EngineError(
        `${this.host.subject}: process ${p.index} of the new version did not become healthy within ${Math.round(limit / 100) / 10} s ` +
          `(health check ${spec.protocol === 'http' ? `GET ${spec.healthCheck.path} expecting ${spec.healthCheck.status}` : 'TCP connect'}); ` +
          `${p.restarts > 0 ? `it exited ${p.restarts} time${p.restarts === 1 ? '' : 's'}; ` : ''}${this.fallback()}. See its log: ${this.host.logFile(spec.name, p.index)}`,
        { code: 'E_UNHEALTHY', data: { app: spec.name, index: p.index, restarts: p.restarts, tail } },
      );
    }
  }

  private async runPreDeploy(spec: AppSpec, signal: AbortSignal): Promise<void> {
    const argv = spec.preDeploy!;
    const logFile = this.host.preDeployLog(spec.name);
    const fd = openSync(logFile, 'a');
    const env = this.host.envFor(spec, 0, -1);
    delete env.PORT;
    delete env.PORTS;
    let code: number | null;
    try {
      const child = spawn(argv[0]!, argv.slice(1), { cwd: spec.cwd, env, detached: true, stdio: ['ignore', fd, fd] });
      const onAbort = () => child.pid && signalGroup(child.pid, 'SIGKILL');
      signal.addEventListener('abort', onAbort, { once: true });
      code = await new Promise<number | null>((resolve) => {
        child.on('error', () => resolve(127));
        child.on('exit', (c, s) => resolve(c ?? (s ? 128 : 1)));
      });
      signal.removeEventListener('abort', onAbort);
      if (child.pid) await waitGone(child.pid, 1000, this.host.deps);
    } finally {
      closeSync(fd);
    }
    if (signal.aborted) throw new CanceledError(`${this.host.subject}: deployment canceled during the pre-deploy command; ${this.fallback()}`);
    if (code !== 0) {
      throw new EngineError(
        `${this.host.subject}: the pre-deploy command exited with code ${code}; ${this.fallback()}. See ${logFile}`,
        { code: 'E_PREDEPLOY', data: { app: spec.name, exitCode: code, tail: await tailOf(logFile) } },
      );
    }
  }
}

/** `text` with every app env value (secrets resolved among them) replaced by `(env KEY)`. */
export function maskEnv(text: string, spec: AppSpec): string {
  let out = text;
  const entries = Object.entries(spec.env).filter(([, v]) => v.length >= 4).sort(([, a], [, b]) => b.length - a.length);
  for (const [k, v] of entries) out = out.split(v).join(`(env ${k})`);
  return out;
}

/** The last lines of a log file (short, for error data). */
export async function tailOf(file: string, lines = 5, fromByte = 0): Promise<string> {
  try {
    const text = (await readFile(file)).subarray(fromByte).toString('utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n').slice(-800);
  } catch {
    return '';
  }
}
