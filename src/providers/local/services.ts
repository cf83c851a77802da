import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from '../../errors.js';
import type { ServiceType } from '../../model/stage-model.js';
import type { Connection } from './links.js';
import type { LocalPaths } from './paths.js';
import type { PidRecord, ServiceSpec, StatusReport } from './protocol.js';
import { Credentials, generatePassword } from './credentials.js';
import { PostgresServer } from './postgres.js';
import { installedPostgres, missingPostgres, postgresFor } from './postgres-versions.js';
import { RedisServer } from './redis.js';
import { freePort, portTaken, terminateGroup } from './proc.js';
import type { LocalDeps } from './local-deps.js';

/** The types the local engine runs. */
export const LOCAL_SERVICE_TYPES: readonly ServiceType[] = ['postgresql', 'redis', 's3', 'volume'];

/**
 * A stage's services inside the supervisor: postgresql databases on one embedded PostgreSQL
 * server, one redis-server per redis service, directories for s3 and volume. Holds the
 * connection settings apps get through links.
 */
export class Services {
  private readonly specs = new Map<string, ServiceSpec>();
  private readonly connections = new Map<string, Connection>();
  private readonly redis = new Map<string, RedisServer>();
  private postgres: PostgresServer | null = null;
  /** redis-server processes of an earlier supervisor, by service, to adopt instead of starting new ones. */
  private adoptable = new Map<string, number>();
  private readonly creds: Credentials;

  constructor(
    private readonly paths: LocalPaths,
    private readonly o: { stageLabel: string; owner: string; stateDir: string; log(line: string): void; pidsChanged(): void; deps: LocalDeps },
  ) {
    this.creds = new Credentials(paths.credentialsFile);
  }

  subject(name: string): string {
    return `service/${name} in ${this.o.stageLabel}`;
  }

  allConnections(): Record<string, Connection> {
    return Object.fromEntries(this.connections);
  }

  names(): string[] {
    return [...this.specs.keys()].sort();
  }

  /** Offers running redis-server processes (by service) left by an earlier supervisor for adoption. */
  offerAdoption(redis: Map<string, number>): void {
    this.adoptable = new Map(redis);
  }

  /** Pids offered for adoption that were not taken (to be stopped). */
  unadopted(): number[] {
    const left = [...this.adoptable.values()];
    this.adoptable.clear();
    return left;
  }

  /** Makes the service exist and run; idempotent. */
  async ensure(spec: ServiceSpec, signal: AbortSignal): Promise<void> {
    const prior = this.specs.get(spec.name);
    if (prior !== undefined && prior.type !== spec.type) {
      throw new EngineError(`${this.subject(spec.name)}: the type cannot change from ${prior.type} to ${spec.type} in place; delete and re-create the service`, { code: 'E_REPLACE_IN_PLACE' });
    }
    const creds = await this.creds.load();
    switch (spec.type) {
      case 'postgresql': {
        const server = await this.ensurePostgres(spec);
        let entry = creds.services[spec.name];
        if (entry === undefined) {
          entry = { password: generatePassword() };
          creds.services[spec.name] = entry;
          await this.creds.save();
        }
        const { database, user } = await server.ensureDatabase(spec.name, entry.password);
        this.connections.set(spec.name, { type: 'postgresql', host: '127.0.0.1', port: server.port, user, password: entry.password, database });
        break;
      }
      case 'redis': {
        let entry = creds.services[spec.name];
        if (entry === undefined || entry.port === undefined) {
          entry = { password: entry?.password ?? generatePassword(), port: await freePort() };
          creds.services[spec.name] = entry;
          await this.creds.save();
        }
        if ((await this.redis.get(spec.name)?.observe())?.state !== 'running') {
          await this.redis.get(spec.name)?.stop(false);
          const server = new RedisServer({
            name: spec.name,
            subject: this.subject(spec.name),
            dir: join(this.paths.redisDir, spec.name),
            logFile: join(this.paths.logsDir, `redis-${spec.name}.log`),
            owner: this.o.owner,
            password: entry.password,
            port: entry.port!,
            log: this.o.log,
            pidsChanged: this.o.pidsChanged,
            deps: this.o.deps,
          });
          this.redis.set(spec.name, server);
          const orphan = this.adoptable.get(spec.name);
          this.adoptable.delete(spec.name);
          if (orphan !== undefined && (await server.adopt(orphan))) this.o.log(`${this.subject(spec.name)}: adopted redis-server (pid ${orphan}) left by an earlier supervisor`);
          else {
            if (orphan !== undefined) await terminateGroup(orphan, 10_000, this.o.deps);
            await server.start(signal);
          }
        }
        this.connections.set(spec.name, { type: 'redis', host: '127.0.0.1', port: entry.port!, password: entry.password });
        break;
      }
      case 's3':
      case 'volume': {
        const dir = join(this.paths.dataDir, spec.name);
        await mkdir(dir, { recursive: true });
        this.connections.set(spec.name, spec.type === 's3' ? { type: 's3', bucket: spec.name, path: dir } : { type: 'volume', path: dir });
        break;
      }
      default:
        throw new EngineError(`${this.subject(spec.name)}: the local engine cannot run ${spec.type} services; use provider aws for this organization or remove the service`, { code: 'E_UNSUPPORTED' });
    }
    this.specs.set(spec.name, spec);
  }

  /** Stops a service; its data goes only with `dropData`. */
  async remove(name: string, dropData: boolean, type?: ServiceType): Promise<void> {
    const t = this.specs.get(name)?.type ?? type;
    this.specs.delete(name);
    this.connections.delete(name);
    const creds = await this.creds.load();
    if (t === 'postgresql') {
      if (dropData) {
        const server = await this.ensurePostgres();
        await server.dropDatabase(name);
        delete creds.services[name];
        await this.creds.save();
      }
      if (![...this.specs.values()].some((s) => s.type === 'postgresql')) await this.postgres?.stop();
    } else if (t === 'redis') {
      const server = this.redis.get(name);
      this.redis.delete(name);
      if (server) await server.stop(dropData);
      else if (dropData) await rm(join(this.paths.redisDir, name), { recursive: true, force: true });
      if (dropData) {
        delete creds.services[name];
        await this.creds.save();
      }
    } else if (dropData) {
      await rm(join(this.paths.dataDir, name), { recursive: true, force: true });
    }
  }

  /** Stops every server; with `dropData` removes all service data of the stage. */
  async stopAll(dropData: boolean): Promise<void> {
    await Promise.all([...this.redis.values()].map((r) => r.stop(dropData)));
    this.redis.clear();
    if (dropData) {
      if (this.postgres) await this.postgres.removeData();
      else await rm(this.paths.postgresDir, { recursive: true, force: true });
      await rm(this.paths.redisDir, { recursive: true, force: true });
      await rm(this.paths.dataDir, { recursive: true, force: true });
      await rm(this.paths.credentialsFile, { force: true });
    } else {
      await this.postgres?.stop();
    }
    this.specs.clear();
    this.connections.clear();
  }

  pids(): PidRecord[] {
    return [...this.redis.entries()].filter(([, r]) => r.pid > 0).map(([name, r]) => ({ pid: r.pid, role: `redis/${name}` }));
  }

  /** Each service as observed now: a server process that is gone or does not answer is `stopped`, with why. */
  async report(): Promise<StatusReport['services']> {
    const out: StatusReport['services'] = {};
    const pgSeen = this.postgres === null ? null : await this.postgres.observe();
    for (const name of this.names()) {
      const spec = this.specs.get(name)!;
      const c = this.connections.get(name);
      if (spec.type === 'postgresql') {
        const where = c && c.type === 'postgresql' ? `127.0.0.1:${c.port}/${c.database}` : undefined;
        if (pgSeen?.state === 'running') out[name] = { type: spec.type, status: 'running', ...(where ? { detail: where } : {}) };
        else out[name] = { type: spec.type, status: 'stopped', detail: `${pgSeen?.detail ?? 'the server is not running'}; setopsd apply starts it again (its data stays)` };
      } else if (spec.type === 'redis') {
        const seen = await this.redis.get(name)?.observe();
        if (seen?.state === 'running') out[name] = { type: spec.type, status: 'running', ...(c && c.type === 'redis' ? { detail: `127.0.0.1:${c.port}` } : {}) };
        else out[name] = { type: spec.type, status: 'stopped', detail: `${seen?.detail ?? 'the server is not running'}; setopsd apply starts it again (its data stays)` };
      } else out[name] = { type: spec.type, status: 'running', ...(c && (c.type === 's3' || c.type === 'volume') ? { detail: c.path } : {}) };
    }
    return out;
  }

  private async ensurePostgres(spec?: ServiceSpec): Promise<PostgresServer> {
    const builds = await installedPostgres();
    // A service asks for its version; dropping data uses the server that holds it.
    const onDisk = Number.parseInt((await readFile(join(this.paths.postgresDir, 'PG_VERSION'), 'utf8').catch(() => '')).trim(), 10);
    const build = spec !== undefined ? postgresFor(spec.version, builds) : (this.postgres?.build ?? builds.find((b) => b.major === onDisk) ?? builds[0] ?? null);
    if (build === null) {
      throw new EngineError(missingPostgres(this.subject(spec?.name ?? 'postgresql'), spec?.version, builds)!, { code: 'E_MISSING_BINARY' });
    }
    if (this.postgres !== null && this.postgres.build.major !== build.major) {
      if (this.postgres.running) {
        throw new EngineError(`${this.subject(spec?.name ?? 'postgresql')}: asks for PostgreSQL ${build.major}, but the stage's server runs ${this.postgres.build.major}; the local engine runs one PostgreSQL server per stage: use one version`, { code: 'E_LOCAL_INVALID' });
      }
      this.postgres = null;
    }
    const creds = await this.creds.load();
    if (creds.postgres === undefined) {
      creds.postgres = { port: await freePort(), superPassword: generatePassword() };
      await this.creds.save();
    }
    const server = (port: number) =>
      new PostgresServer({
        dataDir: this.paths.postgresDir,
        stateDir: this.o.stateDir,
        logFile: join(this.paths.logsDir, 'postgres.log'),
        port,
        superPassword: creds.postgres!.superPassword,
        build,
        log: this.o.log,
        deps: this.o.deps,
      });
    this.postgres ??= server(creds.postgres.port);
    const fresh = !this.postgres.running && !existsSync(join(this.paths.postgresDir, 'PG_VERSION'));
    try {
      await this.postgres.start();
    } catch (err) {
      // Another process took the port (between choosing it and the server's bind, or since the
      // last run): move the server to a free one, once. Any other start failure stands.
      if (this.postgres.running || !(await portTaken(creds.postgres.port))) throw err;
      this.o.log(`postgres: port ${creds.postgres.port} is taken by another process; moving to a free port`);
      creds.postgres.port = await freePort();
      await this.creds.save();
      // A cluster the failed start initialised has no password yet: initialise it again.
      if (fresh) await rm(this.paths.postgresDir, { recursive: true, force: true });
      this.postgres = server(creds.postgres.port);
      await this.postgres.start();
    }
    return this.postgres;
  }
}
