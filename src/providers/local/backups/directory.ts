import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { run, type BackupMethod, type ServiceBackupContext } from './method.js';

/** The directory that holds an s3 or volume service's data. */
export function serviceDataDir(ctx: ServiceBackupContext): string {
  return join(ctx.paths.dataDir, ctx.service);
}

/**
 * s3 and volume services: a gzip'd tar archive of the service's directory (`tar`, which keeps
 * modes and times). Restore extracts into a new directory beside it and swaps the two by rename,
 * so the service's path holds either the old data or all of the restored data, never a mix.
 */
export const directoryBackup: BackupMethod = {
  method: 'tar archive of the service directory',
  ext: 'tar.gz',
  async create(ctx, file) {
    const dir = serviceDataDir(ctx);
    await mkdir(dir, { recursive: true });
    await run('tar', ['-C', dir, '-czf', file, '.'], { signal: ctx.signal, what: `${ctx.subject}: backup` });
  },
  async restore(ctx, file) {
    const dir = serviceDataDir(ctx);
    const tag = randomBytes(4).toString('hex');
    const incoming = `${dir}.restore-${tag}`;
    const outgoing = `${dir}.replaced-${tag}`;
    await mkdir(incoming, { recursive: true, mode: 0o755 });
    try {
      await run('tar', ['-C', incoming, '-xzf', file], { signal: ctx.signal, what: `${ctx.subject}: restore` });
      await mkdir(dir, { recursive: true });
      await rename(dir, outgoing);
      await rename(incoming, dir);
    } finally {
      await rm(incoming, { recursive: true, force: true });
    }
    await rm(outgoing, { recursive: true, force: true });
  },
};
