import { mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';

/**
 * Writes a file so that readers see the old or the new content, never a torn one:
 * write a temp file in the same directory, fsync it, rename it over the target, fsync the directory.
 */
export async function writeFileAtomic(path: string, data: string, mode = 0o644): Promise<void> {
  try {
    await writeAtomic(path, data, mode);
  } catch (err) {
    // A write error (ENOSPC, EIO) carries no path, a create error the temp's: name the file it was for.
    const e = err as NodeJS.ErrnoException;
    if (e && typeof e === 'object' && typeof e.code === 'string' && (e.path === undefined || e.path.endsWith('.tmp'))) e.path = path;
    throw err;
  }
}

async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(data, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } catch {
    // Some file systems do not support fsync on directories; the rename is still atomic.
  } finally {
    await dh.close();
  }
}

/** Temp files of `writeFileAtomic`: `.NAME.PID.RANDOM.tmp`. */
const TEMP_RE = /^\..+\.(\d+)\.[a-z0-9]*\.tmp$/;

/**
 * Removes the temp files `writeFileAtomic` left in `dir` when its process was killed between
 * writing and renaming (torn writes, never read as data); temps of live processes stay. Returns
 * the names removed.
 */
export async function removeTornTemps(dir: string, isAlive: (pid: number) => boolean): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = Number(TEMP_RE.exec(name)?.[1] ?? NaN);
    if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    await unlink(join(dir, name)).then(() => removed.push(name), () => {});
  }
  return removed;
}
