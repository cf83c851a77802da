import * as fs from 'node:fs';
import git from 'isomorphic-git';
import type { HttpClient } from 'isomorphic-git';
import { SetopsError } from '../../errors.js';
import type { SourceFiles } from '../../manifests/api.js';
import { gitTreeCache, readGitTree } from '../../manifests/source-git.js';
import { isBranchName, RemoteSource, remoteDir } from '../remote-source.js';
import type { ConfigSource, PullRequestRef } from './source.js';

/** A source that can refuse a force-pushed head until the operator accepts it (`setopsd sync`). */
export interface ForcePushGuard {
  /** The next read accepts a head refused as a force-push (if any). */
  acceptForcePush(): void;
}

export interface RemoteConfigSourceOptions {
  url: string;
  branch: string;
  /** Sub-directory of the repository holding the manifests. */
  dir?: string;
  /** The daemon's state directory: the bare clone lives under `<stateDir>/remotes/`. */
  stateDir: string;
  /** Environment for credentials (`SETOPSD_GIT_TOKEN`, …). */
  env: Record<string, string | undefined>;
  /** HTTP client for isomorphic-git (tests). */
  http?: HttpClient;
  /** At most this many bytes per fetch of another branch or pull request (tests; default 128 MiB). */
  otherFetchMaxBytes?: number;
}

/**
 * One branch of a remote repository over HTTP(S) (see {@link RemoteSource}): each `read`
 * fetches, then reads the manifests of the fetched commit from the bare clone. `watch` does
 * nothing: the daemon polls (`--poll`) and webhooks call `sync`.
 *
 * - The branch is gone on the remote: `read` throws a terminal `E_GIT_BRANCH_MISSING`; the daemon
 *   keeps its previous snapshot and applies nothing.
 * - A head that does not descend from the last accepted commit (a force-push): `read` throws a
 *   terminal `E_GIT_FORCE_PUSHED` naming both commits, on every read, until
 *   {@link ForcePushGuard.acceptForcePush} (the daemon calls it for an explicit `setopsd sync`)
 *   lets the next read accept it. The accepted commit is kept in the clone under the state
 *   directory ({@link RemoteSource.accept}): a restarted daemon goes on from it, so a force-push
 *   refused before the restart (or pushed while it was down) is still refused, and one accepted
 *   is not refused again. Only a first clone accepts the branch as it is.
 *
 * Other branches and pull requests (`--preview-stages`, `--comment-prs`) are fetched on demand
 * beside the tracked branch, never moving it ({@link RemoteSource.fetchOther}); a branch the
 * remote does not have is a terminal `E_GIT_BRANCH_MISSING`. Their heads are not checked for
 * force-pushes: pull request branches are rewritten all the time, and nothing of them is applied
 * to a stage the main branch declares.
 */
export function remoteSource(opts: RemoteConfigSourceOptions): ConfigSource & ForcePushGuard {
  const remote = new RemoteSource({
    url: opts.url,
    branch: opts.branch,
    dir: remoteDir(opts.stateDir, opts.url, opts.branch),
    env: opts.env,
    ...(opts.http ? { http: opts.http } : {}),
    ...(opts.otherFetchMaxBytes !== undefined ? { otherFetchMaxBytes: opts.otherFetchMaxBytes } : {}),
  });
  /** The accepted commit; read from the clone on the first read (null: not read yet). */
  let accepted: string | undefined | null = null;
  let accept = false;
  /** The head last refused as a force-push (an explicit sync accepts only while one is refused). */
  let refused: string | undefined;
  const display = remote.display;
  const cache = gitTreeCache();
  return {
    description: `${display} (branch ${opts.branch}${opts.dir ? `, ${opts.dir}/` : ''})`,
    branch: opts.branch,
    acceptForcePush() {
      if (refused !== undefined) accept = true;
    },
    async read(signal): Promise<SourceFiles> {
      const acceptNow = accept;
      accept = false;
      if (accepted === null) accepted = await remote.accepted();
      const result = await remote.fetch(signal);
      if (result.kind === 'branch-missing') {
        throw new SetopsError(
          `remote ${display}: branch ${opts.branch} does not exist on the remote (deleted?); nothing is applied, the last commit read${accepted ? ` (${accepted.slice(0, 12)})` : ''} stays; push the branch again or follow another with --branch`,
          { code: 'E_GIT_BRANCH_MISSING', data: { branch: opts.branch, ...(result.previous ? { previous: result.previous } : {}) } },
        );
      }
      const commit = result.commit;
      if (accepted !== undefined && commit !== accepted && !acceptNow) {
        const descends = await git.isDescendent({ fs, gitdir: remote.gitdir, oid: commit, ancestor: accepted, depth: -1 }).catch(() => false);
        if (!descends) {
          refused = commit;
          throw new SetopsError(
            `remote ${display}: branch ${opts.branch} was force-pushed from ${accepted.slice(0, 12)} to ${commit.slice(0, 12)}; nothing is applied until you accept the new head with \`setopsd sync\``,
            { code: 'E_GIT_FORCE_PUSHED', data: { branch: opts.branch, previous: accepted, commit } },
          );
        }
      }
      const files = await readGitTree({ repo: remote.gitdir, ref: commit, ...(opts.dir ? { dir: opts.dir } : {}), display, cache }, signal);
      if (commit !== accepted) await remote.accept(commit);
      accepted = commit;
      refused = undefined;
      return files;
    },
    branches: () => remote.listBranches(),
    async readBranch(branch, signal): Promise<SourceFiles> {
      if (!isBranchName(branch)) throw missingBranch(branch);
      const commit = await remote.fetchOther(`refs/heads/${branch}`, signal);
      if (commit === undefined) throw missingBranch(branch);
      return readGitTree({ repo: remote.gitdir, ref: commit, ...(opts.dir ? { dir: opts.dir } : {}), display }, signal);
    },
    // Only commits fetched already (the tracked branch, a pull request read before).
    readCommit: (sha, signal) => readGitTree({ repo: remote.gitdir, ref: sha, ...(opts.dir ? { dir: opts.dir } : {}), display }, signal),
    async readPullRequest(pr: PullRequestRef, signal): Promise<SourceFiles> {
      const forgeRef = pr.provider === 'gitlab' ? `refs/merge-requests/${pr.number}/head` : `refs/pull/${pr.number}/head`;
      let commit = await remote.fetchOther(forgeRef, signal);
      // A server that is not the forge itself (a mirror, plain git) has only the branch — unless
      // the pull request comes from a fork: a branch of that name here is not its code.
      if (commit === undefined && pr.fromFork !== true && isBranchName(pr.branch)) commit = await remote.fetchOther(`refs/heads/${pr.branch}`, signal);
      if (commit === undefined) throw missingBranch(pr.branch, forgeRef, pr.fromFork === true);
      // The commit the event names, when the fetch brought it (the branch may have moved on since).
      const ref = pr.headSha !== undefined && pr.headSha !== commit && (await hasCommit(remote.gitdir, pr.headSha)) ? pr.headSha : commit;
      return readGitTree({ repo: remote.gitdir, ref, ...(opts.dir ? { dir: opts.dir } : {}), display }, signal);
    },
    watch: async () => async () => {},
  };

  function missingBranch(branch: string, forgeRef?: string, fromFork = false): SetopsError {
    const what =
      forgeRef === undefined
        ? `branch ${branch} does not exist on the remote (deleted, or never pushed)`
        : fromFork
          ? `${forgeRef} does not exist on the remote (the pull request comes from a fork, so a branch ${branch} here is not its code)`
          : `neither ${forgeRef} nor branch ${branch} exists on the remote (deleted, or never pushed)`;
    return new SetopsError(`remote ${display}: ${what}`, {
      code: 'E_GIT_BRANCH_MISSING',
      data: { branch, ...(forgeRef ? { ref: forgeRef } : {}) },
    });
  }
}

async function hasCommit(gitdir: string, oid: string): Promise<boolean> {
  if (!/^[0-9a-f]{40}$/.test(oid)) return false;
  try {
    await git.readCommit({ fs, gitdir, oid });
    return true;
  } catch {
    return false;
  }
}
