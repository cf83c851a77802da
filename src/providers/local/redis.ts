import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'node:net';
import { EngineError } from '../../errors.js';
import { findOnPath } from '../executables.js';
import { writeFileAtomic } from '../../state/atomic.js';
import { isRunning, terminateGroup } from './proc.js';
import { OWNER_ENV, ROLE_ENV } from './protocol.js';
import type { LocalDeps } from './local-deps.js';

/** What one redis-server needs. */
export interface RedisOptions {
  name: string;
  subject: string;
  dir: string;
  logFile: string;
  owner: string;
  password: string;
  port: number;
  log(line: string): void;
  pidsChanged(): void;
  /** Clock and sleep for the start deadline, backoff and polls; the PATH redis-server is found on. */
  deps: LocalDeps;
}

/**
 * One `redis-server` for one redis service: bound to 127.0.0.1 on a port kept across restarts,
 * AUTH with a generated password (in a 0600 config file, never on the command line), data
 * (append-only file) in its own directory. Restarted with backoff when it exits.
 */
export class RedisServer {
  pid = 0;
  running = false;
  private child: ChildProcess | null = null;
  private stopped = false;
  private restarts = 0;

  constructor(private readonly o: RedisOptions) {}

  get port(): number {
    return this.o.port;
  }

  /**
   * What is observed of the server: alive and accepting connections on its port (`down`, with
   * why, when killed, restarting or hung); `stopped` when it was stopped.
   */
  async observe(): Promise<{ state: 'running' | 'down' | 'stopped'; detail?: string }> {
    if (this.stopped) return { state: 'stopped' };
    if (!this.running || this.pid <= 0 || !(await isRunning(this.pid))) return { state: 'down', detail: `redis-server is not running${this.restarts > 0 ? ` (exited; ${this.restarts} restart${this.restarts === 1 ? '' : 's'} so far)` : ''}` };
    if (!(await answersPing(this.o.port, 3000))) return { state: 'down', detail: `redis-server (pid ${this.pid}) does not answer on 127.0.0.1:${this.o.port}` };
    return { state: 'running' };
  }

  /** Starts the server and waits until it accepts connections. */
  async start(signal: AbortSignal): Promise<void> {
    const { clock, sleep, env } = this.o.deps;
    const bin = await findOnPath('redis-server', env);
    if (bin === null) {
      throw new EngineError(`${this.o.subject}: redis-server was not found on the PATH; install Redis (e.g. apt-get install redis-server) or remove the redis service`, { code: 'E_MISSING_BINARY', data: { binary: 'redis-server' } });
    }
    await mkdir(this.o.dir, { recursive: true, mode: 0o700 });
    const conf = join(this.o.dir, 'redis.conf');
    await writeFileAtomic(conf, [
      `port ${this.o.port}`,
      'bind 127.0.0.1',
      'protected-mode yes',
      `requirepass ${this.o.password}`,
      `dir ${this.o.dir}`,
      'appendonly yes',
      'save ""',
      'daemonize no',
      'logfile ""',
      '',
    ].join('\n'), 0o600);
    this.spawn(bin, conf);
    const deadline = clock.now() + 15_000;
    while (!(await tcpOpen(this.o.port))) {
      if (!this.child) throw new EngineError(`${this.o.subject}: redis-server exited at start; see ${this.o.logFile}`, { code: 'E_LOCAL_START' });
      if (clock.now() > deadline) throw new EngineError(`${this.o.subject}: redis-server did not accept connections within 15 s; see ${this.o.logFile}`, { code: 'E_LOCAL_START' });
      await sleep(50, signal);
    }
    this.running = true;
  }

  private spawn(bin: string, conf: string): void {
    const fd = openSync(this.o.logFile, 'a');
    try {
      this.child = spawn(bin, [conf], {
        cwd: this.o.dir,
        detached: true,
        stdio: ['ignore', fd, fd],
        env: { PATH: this.o.deps.env.PATH ?? '/usr/bin:/bin', [OWNER_ENV]: this.o.owner, [ROLE_ENV]: `redis/${this.o.name}` },
      });
    } finally {
      closeSync(fd);
    }
    this.pid = this.child.pid ?? 0;
    this.o.pidsChanged();
    this.child.on('exit', () => {
      this.child = null;
      this.exited(bin, conf);
    });
  }

  /** The server exited on its own: restart it with backoff. */
  private exited(bin: string, conf: string): void {
    this.pid = 0;
    this.running = false;
    this.o.pidsChanged();
    if (this.stopped) return;
    this.restarts++;
    const wait = Math.min(30_000, 500 * 2 ** Math.min(this.restarts, 10));
    this.o.log(`${this.o.subject}: redis-server exited; restart ${this.restarts} in ${wait} ms`);
    void this.o.deps.sleep(wait).then(async () => {
      if (this.stopped) return;
      this.spawn(bin, conf);
      for (let i = 0; i < 100 && this.child && !(await tcpOpen(this.o.port)); i++) await this.o.deps.sleep(100);
      this.running = this.child !== null;
    });
  }

  /**
   * Takes over a redis-server an earlier supervisor started (verified by the caller through its
   * marker) when it accepts connections on the recorded port; its exit is noticed by polling.
   * False when it cannot be adopted.
   */
  async adopt(pid: number): Promise<boolean> {
    const bin = await findOnPath('redis-server', this.o.deps.env);
    if (bin === null || !(await tcpOpen(this.o.port))) return false;
    this.pid = pid;
    this.running = true;
    this.o.pidsChanged();
    void (async () => {
      while (this.pid === pid && (await isRunning(pid))) await this.o.deps.sleep(250);
      if (this.pid === pid) this.exited(bin, join(this.o.dir, 'redis.conf'));
    })();
    return true;
  }

  /** Stops the server (SIGTERM: redis flushes its append-only file); `dropData` removes its directory. */
  async stop(dropData: boolean): Promise<void> {
    this.stopped = true;
    if (this.pid > 0) await terminateGroup(this.pid, 10_000, this.o.deps);
    this.running = false;
    if (dropData) await rm(this.o.dir, { recursive: true, force: true });
  }
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/**
 * Whether a redis server on `port` answers a `PING` within `timeoutMs` (any reply counts: without
 * AUTH it is `-NOAUTH …`). A stopped or hung server still completes the TCP handshake, so a connect
 * alone does not tell.
 */
function answersPing(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    s.on('connect', () => s.write('PING\r\n'));
    s.once('data', () => finish(true));
    s.on('error', () => finish(false));
    s.on('close', () => finish(false));
  });
}
