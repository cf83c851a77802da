import * as fs from 'node:fs';
import { join } from 'node:path';
import git from 'isomorphic-git';
import { watch as chokidarWatch } from 'chokidar';
import { SetopsError } from '../../errors.js';
import type { SourceFiles } from '../../manifests/api.js';
import { findRepository, gitTreeCache, readGitTree } from '../../manifests/source-git.js';
import type { ConfigSource } from './source.js';

/**
 * A local git repository, following one branch. Watches what git writes when the branch moves
 * — `refs/heads/<branch>` (and its lock-file rename), `packed-refs` after `git gc`/`pack-refs`,
 * and `HEAD` — so a commit is noticed as soon as it is written, without polling. Reads the
 * branch's tree straight from the object database (no checkout).
 */
export async function localRepoSource(opts: { repo: string; branch: string; dir?: string; display?: string }): Promise<ConfigSource> {
  const display = opts.display ?? opts.repo;
  const { gitdir } = await findRepository(opts.repo, display);
  const ref = `refs/heads/${opts.branch}`;
  // The tracked branch's trees and decoded blobs: a one-file commit reads its path's trees and one blob.
  const cache = gitTreeCache();
  return {
    description: `${display} (branch ${opts.branch}${opts.dir ? `, ${opts.dir}/` : ''})`,
    branch: opts.branch,
    read: (signal): Promise<SourceFiles> => readGitTree({ repo: opts.repo, ref, dir: opts.dir, display, cache }, signal),
    branches: () => git.listBranches({ fs, gitdir }),
    async readBranch(branch, signal) {
      // A branch that is not there (deleted) is told apart from a repository that cannot be read.
      const exists = await git.resolveRef({ fs, gitdir, ref: `refs/heads/${branch}` }).then(() => true, () => false);
      if (!exists) throw new SetopsError(`${display}: branch ${branch} does not exist (deleted, or never made)`, { code: 'E_GIT_BRANCH_MISSING', data: { branch } });
      return readGitTree({ repo: opts.repo, ref: `refs/heads/${branch}`, dir: opts.dir, display }, signal);
    },
    readCommit: (sha, signal) => readGitTree({ repo: opts.repo, ref: sha, dir: opts.dir, display }, signal),
    watch: async (changed) => {
      const watched = [join(gitdir, 'refs', 'heads'), join(gitdir, 'packed-refs'), join(gitdir, 'HEAD')];
      const watcher = chokidarWatch(watched, { ignoreInitial: true, depth: 10 });
      const onEvent = (_event: string, path: string) => {
        if (path.endsWith('.lock')) return; // git writes ref.lock, then renames it over the ref
        changed(`git ${path.slice(gitdir.length + 1)} changed`);
      };
      watcher.on('all', onEvent);
      await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
      return () => watcher.close();
    },
  };
}
