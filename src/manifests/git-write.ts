import * as fs from 'node:fs';
import git from 'isomorphic-git';
import { ManifestError } from '../errors.js';
import type { FileEdit } from './edit.js';
import { findRepository, resolveCommit } from './source-git.js';

/** Where and how `commitEdits` writes. */
export interface CommitRequest {
  /** The repository (working tree or bare). */
  repo: string;
  /** The commit the edits were made against; the new commit's parent. */
  base: string;
  /** Directory of the manifests inside the repository ('' for its root); edit paths are relative to it. */
  dir: string;
  /** The new branch (`refs/heads/BRANCH`); it must not exist yet. */
  branch: string;
  message: string;
  /** Author and committer (default: the repository's user.name / user.email, else setopsd). */
  author?: { name: string; email: string };
  /** Fixed time (seconds since the epoch), for reproducible commits in tests. */
  timestamp?: number;
}

/**
 * Writes `edits` as one commit on a new branch with isomorphic-git, straight into the object
 * database: the working tree, the index and the checked-out branch are not touched, so it is
 * safe in a repository someone works in. Returns the new commit's SHA.
 */
export async function commitEdits(edits: readonly FileEdit[], req: CommitRequest): Promise<string> {
  const { gitdir } = await findRepository(req.repo, req.repo);
  const cache = {};
  const ref = `refs/heads/${req.branch}`;
  if (!BRANCH_RE.test(req.branch)) throw new ManifestError(`"${req.branch}" is not a valid branch name (letters, digits, . _ - /; no "..", no leading or trailing / or .)`);
  const exists = await git.resolveRef({ fs, gitdir, ref }).then(
    () => true,
    () => false,
  );
  if (exists) throw new ManifestError(`branch ${req.branch} already exists in ${req.repo}; choose another name or delete it first`);
  const base = await resolveCommit(gitdir, req.base, req.repo, cache);
  const { commit } = await git.readCommit({ fs, gitdir, oid: base, cache });
  let tree = commit.tree;
  for (const e of edits) {
    const path = [...req.dir.split('/').filter(Boolean), ...e.path.split('/')];
    const blob = e.after === null ? null : await git.writeBlob({ fs, gitdir, blob: new TextEncoder().encode(e.after) });
    tree = await replaceInTree(gitdir, tree, path, blob, cache);
  }
  const author = req.author ?? (await configuredAuthor(gitdir));
  const time = { timestamp: req.timestamp ?? Math.floor(Date.now() / 1000), timezoneOffset: 0 };
  const oid = await git.writeCommit({
    fs,
    gitdir,
    commit: { message: req.message.endsWith('\n') ? req.message : req.message + '\n', tree, parent: [base], author: { ...author, ...time }, committer: { ...author, ...time } },
  });
  await git.writeRef({ fs, gitdir, ref, value: oid });
  return oid;
}

/** A safe subset of what `git check-ref-format --branch` accepts. */
const BRANCH_RE = /^(?![./])(?!.*\.\.)(?!.*\/\/)(?!.*\.lock$)[A-Za-z0-9._/-]+(?<![./])$/;

/** The tree `treeOid` with the blob at `path` replaced (null: removed), as a new tree oid. */
async function replaceInTree(gitdir: string, treeOid: string | null, path: string[], blob: string | null, cache: object): Promise<string> {
  const entries = treeOid === null ? [] : (await git.readTree({ fs, gitdir, oid: treeOid, cache })).tree;
  const [head, ...rest] = path as [string, ...string[]];
  const at = entries.findIndex((e) => e.path === head);
  const next = entries.filter((_, i) => i !== at);
  if (rest.length === 0) {
    if (blob !== null) next.push({ mode: at >= 0 ? entries[at]!.mode : '100644', path: head, oid: blob, type: 'blob' });
  } else {
    const sub = await replaceInTree(gitdir, at >= 0 && entries[at]!.type === 'tree' ? entries[at]!.oid : null, rest, blob, cache);
    const empty = (await git.readTree({ fs, gitdir, oid: sub, cache })).tree.length === 0;
    if (!empty) next.push({ mode: '040000', path: head, oid: sub, type: 'tree' });
  }
  return git.writeTree({ fs, gitdir, tree: next });
}

async function configuredAuthor(gitdir: string): Promise<{ name: string; email: string }> {
  const name = (await git.getConfig({ fs, gitdir, path: 'user.name' }).catch(() => undefined)) as string | undefined;
  const email = (await git.getConfig({ fs, gitdir, path: 'user.email' }).catch(() => undefined)) as string | undefined;
  return { name: name ?? 'setopsd', email: email ?? 'setopsd@localhost' };
}
