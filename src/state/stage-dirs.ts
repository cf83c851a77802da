import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { StageRef } from '../model/stage-model.js';

/**
 * Every `stages/ORG/PROJECT/STAGE` directory under the state directory (see `paths.ts`), whatever
 * it holds; sorted level by level. Callers keep the stages whose files they care about.
 */
export async function stageDirRefs(stateDir: string): Promise<StageRef[]> {
  const out: StageRef[] = [];
  const root = join(stateDir, 'stages');
  for (const organization of await subdirs(root)) {
    for (const project of await subdirs(join(root, organization))) {
      for (const stage of await subdirs(join(root, organization, project))) out.push({ organization, project, stage });
    }
  }
  return out;
}

async function subdirs(path: string): Promise<string[]> {
  try {
    return (await readdir(path, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
