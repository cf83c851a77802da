import { spawn } from 'node:child_process';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { EngineError } from '../../../errors.js';
import { writeFileAtomic } from '../../../state/atomic.js';
import { findOnPath } from '../../executables.js';
import { Credentials } from '../credentials.js';
import { freePort, terminateGroup } from '../proc.js';
import { OWNER_ENV, ROLE_ENV } from '../protocol.js';
import type { BackupMethod, ServiceBackupContext } from './method.js';
import { RespClient } from './resp.js';

const POLL_MS = 50;
const DEADLINE_MS = 120_000;

/** The port and AUTH password of a running redis service (from the stage's 0600 credentials file). */
async function connection(ctx: ServiceBackupContext): Promise<{ port: number; password: string }> {
  const entry = (await new Credentials(ctx.paths.credentialsFile).load()).services[ctx.service];
  if (entry?.port === undefined) throw new EngineError(`${ctx.subject}: is not running on the local engine (no port recorded); apply the stage first`, { code: 'E_NOT_DEPLOYED' });
  return { port: entry.port, password: entry.password };
}

async function until(ctx: ServiceBackupContext, what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = ctx.deps.clock.now() + DEADLINE_MS;
  while (!(await check())) {
    if (ctx.deps.clock.now() > deadline) throw new EngineError(`${ctx.subject}: ${what} did not finish within ${DEADLINE_MS / 1000} s`, { code: 'E_BACKUP_FAILED' });
    await ctx.deps.sleep(POLL_MS, ctx.signal);
  }
}

/**
 * redis: the server's own RDB snapshot. Backup: `BGSAVE` (a fork writes a point-in-time
 * snapshot while the server keeps serving), wait for it, copy the RDB file. Restore without
 * stopping the service: a temporary redis-server loads the backup's RDB, the service becomes its
 * replica for one full synchronisation (redis replaces its whole dataset with the primary's and
 * rewrites its append-only file), then is promoted back; the temporary server is stopped.
 */
export const redisBackup: BackupMethod = {
  method: 'redis RDB snapshot (BGSAVE)',
  ext: 'rdb',
  async create(ctx, file) {
    const { port, password } = await connection(ctx);
    const client = await RespClient.open(port, password);
    try {
      const inProgress = async () => (await client.info('persistence')).rdb_bgsave_in_progress === '1';
      for (;;) {
        const r = await client.call('BGSAVE');
        if (!(r instanceof Error)) break;
        if (!/in progress/i.test(r.message)) throw new EngineError(`${ctx.subject}: BGSAVE refused: ${r.message}`, { code: 'E_BACKUP_FAILED' });
        await ctx.deps.sleep(POLL_MS, ctx.signal); // another snapshot runs: take a fresh one after it
      }
      // BGSAVE answers after the fork: from here on "in progress" is our snapshot.
      await until(ctx, 'BGSAVE', async () => !(await inProgress()));
      const status = (await client.info('persistence')).rdb_last_bgsave_status;
      if (status !== 'ok') throw new EngineError(`${ctx.subject}: BGSAVE failed (rdb_last_bgsave_status: ${status}); see the redis log`, { code: 'E_BACKUP_FAILED' });
      const [, dir] = (await client.ok('CONFIG', 'GET', 'dir')) as string[];
      const [, name] = (await client.ok('CONFIG', 'GET', 'dbfilename')) as string[];
      await copyFile(join(dir!, name!), file);
    } finally {
      client.close();
    }
  },
  async restore(ctx, file) {
    const live = await connection(ctx);
    const bin = await findOnPath('redis-server', ctx.deps.env);
    if (bin === null) throw new EngineError(`${ctx.subject}: redis-server was not found on the PATH`, { code: 'E_MISSING_BINARY' });
    const dir = join(ctx.paths.localDir, `redis-restore-${ctx.service}-${randomBytes(3).toString('hex')}`);
    const port = await freePort();
    const password = randomBytes(24).toString('hex');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await copyFile(file, join(dir, 'dump.rdb'));
    const conf = join(dir, 'redis.conf');
    await writeFileAtomic(conf, [`port ${port}`, 'bind 127.0.0.1', 'protected-mode yes', `requirepass ${password}`, `dir ${dir}`, 'dbfilename dump.rdb', 'appendonly no', 'save ""', 'daemonize no', ''].join('\n'), 0o600);
    // The stage's marker: a supervisor that finds it after a crash of this command stops it.
    const child = spawn(bin, [conf], { cwd: dir, detached: true, stdio: 'ignore', env: { PATH: ctx.deps.env.PATH ?? '/usr/bin:/bin', [OWNER_ENV]: ctx.paths.stageDir, [ROLE_ENV]: `restore/${ctx.service}` } });
    const source: { client?: RespClient } = {};
    const target = await RespClient.open(live.port, live.password);
    try {
      await until(ctx, 'the temporary redis-server start', async () => {
        source.client ??= await RespClient.open(port, password, 1000).catch(() => undefined);
        if (source.client === undefined) return false;
        return (await source.client.info('persistence')).loading === '0';
      });
      const want = Number(await source.client!.ok('DBSIZE'));
      await target.ok('CONFIG', 'SET', 'masterauth', password);
      await target.ok('REPLICAOF', '127.0.0.1', String(port));
      try {
        await until(ctx, 'the synchronisation from the backup', async () => {
          const r = await target.info('replication');
          return r.master_link_status === 'up' && r.master_sync_in_progress === '0';
        });
      } finally {
        await target.ok('REPLICAOF', 'NO', 'ONE');
        await target.ok('CONFIG', 'SET', 'masterauth', '');
      }
      const got = Number(await target.ok('DBSIZE'));
      if (got !== want) throw new EngineError(`${ctx.subject}: restore: the service holds ${got} keys after the synchronisation, the backup ${want}`, { code: 'E_RESTORE_FAILED' });
    } finally {
      target.close();
      source.client?.close();
      if (child.pid !== undefined) await terminateGroup(child.pid, 5000, ctx.deps);
      await rm(dir, { recursive: true, force: true });
    }
  },
};
