import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/**
 * The first executable file named `name` in the directories of `env.PATH`, then in `extraDirs`;
 * null when there is none. Used for the CLIs the engines drive (`pulumi`, `aws`, `redis-server`).
 */
export async function findOnPath(name: string, env: Record<string, string | undefined>, extraDirs: readonly string[] = []): Promise<string | null> {
  for (const dir of [...(env.PATH ?? '').split(delimiter).filter(Boolean), ...extraDirs]) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}
