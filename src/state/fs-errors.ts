import { accessSync, constants, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { EngineError } from '../errors.js';

/** What to do about each file-system error, by errno code. */
const ADVICE: Record<string, (path: string) => string> = {
  EROFS: (p) => `${p} is on a read-only file system; remount it read-write or use another state directory (--state-dir)`,
  ENOSPC: (p) => `the disk holding ${p} is full; free space (old logs under the state directory's logs/ may be large) and retry`,
  EDQUOT: (p) => `the disk quota for ${p} is exhausted; free space or raise the quota and retry`,
  EACCES: (p) => `permission denied for ${p}; run setopsd as the user who owns the state directory or fix its permissions (chown, chmod)`,
  EPERM: (p) => `the operation is not permitted on ${p} (is it or its directory immutable or append-only? \`lsattr -d\` shows it, \`chattr -i\` removes it)`,
  EIO: (p) => `an I/O error on ${p}; check the disk (dmesg) and retry`,
  EMFILE: () => 'too many open files; raise the limit (ulimit -n) and retry',
  ENFILE: () => 'too many open files on the system; retry later',
};

/**
 * A file-system failure (a Node errno error) as an EngineError `E_FILE_SYSTEM` that names the
 * path, what happened and what to do; null for anything else. `ENOENT` from a recursive mkdir
 * (what Node reports when a parent cannot be created) is explained by the nearest existing
 * ancestor: read-only, or not writable.
 */
export function fileSystemError(err: unknown, subject: string): EngineError | null {
  const e = err as NodeJS.ErrnoException | null;
  if (e === null || typeof e !== 'object' || typeof e.code !== 'string') return null;
  let code = e.code;
  let path = e.path ?? (e as { dest?: string }).dest ?? '';
  if (code === 'ENOENT' && e.syscall === 'mkdir' && path) {
    let dir = path;
    while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
    try {
      accessSync(dir, constants.W_OK);
      return null;
    } catch (inner) {
      code = (inner as NodeJS.ErrnoException).code ?? code;
      path = dir;
    }
  }
  const advice = ADVICE[code];
  if (advice === undefined) return null;
  return new EngineError(`${subject}: cannot ${e.syscall ?? 'write'} ${path || 'a file'}: ${advice(path || 'the state directory')}`, {
    code: 'E_FILE_SYSTEM',
    cause: err,
    data: { errno: code, ...(path ? { path } : {}), ...(e.syscall ? { syscall: e.syscall } : {}) },
  });
}
