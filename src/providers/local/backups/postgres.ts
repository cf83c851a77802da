import { mkdtemp, readFile, realpath, rename, rm, stat, writeFile, chmod, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { EngineError } from '../../../errors.js';
import { Credentials } from '../credentials.js';
import { findSupervisor } from '../launcher.js';
import type { DesiredRuntime, ServiceSpec } from '../protocol.js';
import { run, type BackupMethod, type ServiceBackupContext } from './method.js';

/**
 * Files PostgreSQL's documentation says to leave out of a base backup (they are rebuilt at
 * start); pg_wal is archived separately, after the backup ended, so it holds every WAL record
 * from the backup's checkpoint to its end.
 */
const EXCLUDED = ['./postmaster.pid', './postmaster.opts', './pg_wal/*', './pg_replslot/*', './pg_dynshmem/*', './pg_notify/*', './pg_serial/*', './pg_snapshots/*', './pg_stat_tmp/*', './pg_subtrans/*', 'pgsql_tmp*'];

async function cluster(ctx: ServiceBackupContext): Promise<{ port: number; superPassword: string; dataDir: string }> {
  const creds = (await new Credentials(ctx.paths.credentialsFile).load()).postgres;
  if (creds === undefined || !existsSync(ctx.paths.postgresDir)) throw new EngineError(`${ctx.subject}: the stage has no PostgreSQL cluster on the local engine; apply the stage first`, { code: 'E_NOT_DEPLOYED' });
  return { port: creds.port, superPassword: creds.superPassword, dataDir: await realpath(ctx.paths.postgresDir) };
}

/** GNU tar exits 1 when a file changed while it was read: expected for a live cluster (WAL replay repairs it). */
async function tarLive(args: string[], ctx: ServiceBackupContext): Promise<void> {
  try {
    await run('tar', args, { signal: ctx.signal, what: `${ctx.subject}: backup` });
  } catch (err) {
    if (!/exited with code 1\b/.test((err as Error).message)) throw err;
  }
}

/**
 * postgresql: a base backup of the stage's PostgreSQL cluster through the server's own backup
 * API — a temporary replication slot holds the WAL, `pg_backup_start` (fast checkpoint), an
 * archive of the data directory, `pg_backup_stop` (its backup label), then the WAL — so the copy
 * is consistent once PostgreSQL replays it. (setopsd's embedded PostgreSQL ships no pg_dump or
 * pg_basebackup of its version, and older ones refuse a newer server.) All postgresql services of
 * a stage share one cluster, so a backup holds each of their databases and a restore returns
 * every one of them to the backup's time; `backup restore` says so before it starts.
 *
 * Restore: the supervisor stops the stage's postgresql services (the server stops with the last
 * one), the data directory is replaced by the backup (extracted beside it, swapped by rename,
 * owner and mode kept), and the services are put back: the server starts, replays the backup's
 * WAL and serves the backup's data under the same credentials.
 */
export const postgresBackup: BackupMethod = {
  method: 'PostgreSQL base backup (pg_backup_start / pg_backup_stop, with WAL)',
  ext: 'tar',
  async create(ctx, file) {
    const { port, superPassword, dataDir } = await cluster(ctx);
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: superPassword, database: 'postgres' });
    const staging = await mkdtemp(join(ctx.paths.localDir, 'pg-backup-'));
    try {
      await client.connect().catch((err: Error) => {
        throw new EngineError(`${ctx.subject}: cannot connect to the stage's PostgreSQL on port ${port}: ${err.message}`, { code: 'E_BACKUP_FAILED' });
      });
      const slot = `setopsd_backup_${randomBytes(4).toString('hex')}`;
      await client.query('SELECT pg_create_physical_replication_slot($1, true, true)', [slot]);
      await client.query('SELECT pg_backup_start($1, true)', [`setopsd ${ctx.service}`]);
      let stopped = false;
      try {
        await tarLive(['-C', dataDir, '-czf', join(staging, 'base.tar.gz'), ...EXCLUDED.map((e) => `--exclude=${e}`), '.'], ctx);
        const r = await client.query<{ labelfile: string; spcmapfile: string | null }>('SELECT labelfile, spcmapfile FROM pg_backup_stop(false)');
        stopped = true;
        await writeFile(join(staging, 'backup_label'), r.rows[0]!.labelfile);
        if (r.rows[0]!.spcmapfile) await writeFile(join(staging, 'tablespace_map'), r.rows[0]!.spcmapfile);
      } finally {
        if (!stopped) await client.query('SELECT pg_backup_stop(false)').catch(() => undefined);
      }
      await tarLive(['-C', dataDir, '-czf', join(staging, 'wal.tar.gz'), '--exclude=./pg_wal/archive_status/*', './pg_wal'], ctx);
      const members = ['base.tar.gz', 'wal.tar.gz', 'backup_label', ...(existsSync(join(staging, 'tablespace_map')) ? ['tablespace_map'] : [])];
      await run('tar', ['-C', staging, '-cf', file, ...members], { signal: ctx.signal, what: `${ctx.subject}: backup` });
    } catch (err) {
      if (err instanceof EngineError) throw err;
      throw new EngineError(`${ctx.subject}: backup failed: ${(err as Error).message}`, { code: 'E_BACKUP_FAILED', cause: err });
    } finally {
      await client.end().catch(() => undefined);
      await rm(staging, { recursive: true, force: true });
    }
  },
  async restore(ctx, file) {
    const { dataDir } = await cluster(ctx);
    const specs = await postgresSpecs(ctx);
    const supervisor = await findSupervisor(ctx.paths);
    const tag = randomBytes(4).toString('hex');
    const incoming = `${dataDir}.restore-${tag}`;
    const outgoing = `${dataDir}.replaced-${tag}`;
    const staging = await mkdtemp(join(ctx.paths.localDir, 'pg-restore-'));
    let swapped = false;
    try {
      // Unpack first: a damaged archive fails here, while the service still runs.
      await run('tar', ['-C', staging, '-xf', file], { signal: ctx.signal, what: `${ctx.subject}: restore` });
      await mkdir(incoming, { mode: 0o700 });
      await run('tar', ['-C', incoming, '-xzf', join(staging, 'base.tar.gz')], { signal: ctx.signal, what: `${ctx.subject}: restore` });
      await run('tar', ['-C', incoming, '-xzf', join(staging, 'wal.tar.gz')], { signal: ctx.signal, what: `${ctx.subject}: restore` });
      await writeFile(join(incoming, 'backup_label'), await readFile(join(staging, 'backup_label')));
      if (existsSync(join(staging, 'tablespace_map'))) await writeFile(join(incoming, 'tablespace_map'), await readFile(join(staging, 'tablespace_map')));
      const owner = await stat(dataDir);
      await run('chown', ['-R', `${owner.uid}:${owner.gid}`, incoming], { signal: ctx.signal, what: `${ctx.subject}: restore` });
      await chmod(incoming, 0o700);

      for (const s of specs) await supervisor?.deleteService(s.name, { type: 'postgresql', dropData: false }, ctx.signal);
      await waitStopped(ctx, dataDir);
      await rename(dataDir, outgoing);
      await rename(incoming, dataDir);
      swapped = true;
      for (const s of specs) await supervisor?.putService(s, ctx.signal);
    } catch (err) {
      // Put back what ran before: the old data directory and its services.
      if (swapped) {
        for (const s of specs) await supervisor?.deleteService(s.name, { type: 'postgresql', dropData: false }).catch(() => undefined);
        await waitStopped(ctx, dataDir).catch(() => undefined);
        await rename(dataDir, `${dataDir}.failed-${tag}`).catch(() => undefined);
        await rename(outgoing, dataDir).catch(() => undefined);
      }
      for (const s of specs) await supervisor?.putService(s).catch(() => undefined);
      throw new EngineError(`${ctx.subject}: restore failed, the data from before the restore is back in place: ${(err as Error).message}`, { code: 'E_RESTORE_FAILED', cause: err });
    } finally {
      await rm(staging, { recursive: true, force: true });
      await rm(incoming, { recursive: true, force: true });
    }
    await rm(outgoing, { recursive: true, force: true });
  },
};

/** The stage's postgresql services as the supervisor runs them (`desired.json`), this one first. */
async function postgresSpecs(ctx: ServiceBackupContext): Promise<ServiceSpec[]> {
  let desired: DesiredRuntime | null = null;
  try {
    desired = JSON.parse(await readFile(ctx.paths.desiredFile, 'utf8')) as DesiredRuntime;
  } catch {
    desired = null;
  }
  const specs = Object.values(desired?.services ?? {}).filter((s) => s.type === 'postgresql');
  if (!specs.some((s) => s.name === ctx.service)) specs.push({ name: ctx.service, type: 'postgresql', ...(ctx.model.version ? { version: ctx.model.version } : {}) });
  return specs.sort((a, b) => (a.name === ctx.service ? -1 : b.name === ctx.service ? 1 : a.name < b.name ? -1 : 1));
}

/** The postmaster is gone once its pid file is (it removes it last on a clean shutdown). */
async function waitStopped(ctx: ServiceBackupContext, dataDir: string): Promise<void> {
  const deadline = ctx.deps.clock.now() + 60_000;
  while (existsSync(join(dataDir, 'postmaster.pid'))) {
    if (ctx.deps.clock.now() > deadline) throw new EngineError(`${ctx.subject}: PostgreSQL did not stop within 60 s`, { code: 'E_RESTORE_FAILED' });
    await ctx.deps.sleep(100, ctx.signal);
  }
}
