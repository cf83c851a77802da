import * as fs from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import git from 'isomorphic-git';
import { ManifestError, throwIfAborted } from '../errors.js';
import { compareCodeUnits } from '../model/canonical.js';
import type { SourceFile, SourceFiles } from './api.js';
import { mapBounded } from './bounded.js';
import { SKIPPED_DIRS, decodeManifest, isManifestName } from './decode.js';
import { readTreeWithGit } from './git-batch.js';

/** Blobs read at once. */
const READ_CONCURRENCY = 16;

/** Where to read manifests from in a git repository. */
export interface GitTreeOptions {
  /** Path of the repository: a working tree (with `.git`) or a bare repository. */
  repo: string;
  /** Branch, tag (annotated tags are peeled), full ref (`refs/…`), `HEAD`, or a full or short commit SHA. */
  ref: string;
  /** Sub-directory of the repository that holds the manifests (default: the repository root). */
  dir?: string;
  /** How to name the repository in messages (default: `repo` as given). */
  display?: string;
  /**
   * The git binary that reads the files of the tree in two commands (default: `git` on the
   * PATH); `false` reads them with isomorphic-git only. Where git is missing or fails, the
   * files are read with isomorphic-git. Not used with `cache`, which reads only what changed.
   */
  gitBinary?: string | false;
  /**
   * What was read before, kept across reads (the daemon keeps one per source): a tree or blob
   * read before is not read (or decoded) again, so a one-file commit reads the trees on its path
   * and one blob. Pruned to the trees and blobs of the commit just read.
   */
  cache?: GitTreeCache;
}

/** See `GitTreeOptions.cache`. */
export interface GitTreeCache {
  /** Decoded manifests by blob id. */
  blobs: Map<string, Pick<SourceFile, 'text' | 'unreadable'>>;
  /** By tree id: the manifest blobs below it, paths relative to it. */
  trees: Map<string, readonly TreeBlob[]>;
}

/** A new, empty {@link GitTreeCache}. */
export function gitTreeCache(): GitTreeCache {
  return { blobs: new Map(), trees: new Map() };
}

interface TreeBlob {
  path: string;
  oid: string;
}

/**
 * Reads every `*.yaml` / `*.yml` file of the tree of `ref` straight from the git object
 * database: no checkout, so it works on bare repositories, packfiles and packed refs exactly as
 * `git` writes them. The ref is resolved with isomorphic-git; the files are read with one `git
 * cat-file --batch` when the git binary runs (see `readTreeWithGit`), else with isomorphic-git.
 * Paths are relative to `dir`, sorted.
 *
 * Throws a ManifestError when the repository, the ref or the directory does not exist. A
 * manifest that is not UTF-8 comes back `unreadable` (an issue of that file, see `decodeManifest`).
 */
export async function readGitTree(opts: GitTreeOptions, signal?: AbortSignal): Promise<SourceFiles> {
  const display = opts.display ?? opts.repo;
  // Like git, a path inside a working tree names its repository; the path below the top of the
  // working tree becomes part of `dir`.
  const { top: root, gitdir, sub } = await findRepository(resolve(opts.repo), display);
  const cache = {};
  const commit = await resolveCommit(gitdir, opts.ref, display, cache);
  throwIfAborted(signal);
  const dir = normalizeDir([sub, opts.dir ?? ''].filter(Boolean).join('/'));

  let treeOid: string;
  try {
    treeOid = (await git.readTree({ fs, gitdir, oid: commit, filepath: dir || undefined, cache })).oid;
  } catch (cause) {
    throw new ManifestError(
      `${display}: directory "${dir}" does not exist in ${opts.ref} (commit ${commit.slice(0, 12)}); check --dir`,
      { data: { repo: display, ref: opts.ref, commit, dir }, cause },
    );
  }

  // With a cache (the daemon), only the trees and blobs not read before are read, object by
  // object; without one (a CLI run), git reads the whole tree in two commands where it can.
  const viaGit = opts.cache !== undefined || opts.gitBinary === false ? undefined : await readTreeWithGit(opts.gitBinary ?? 'git', gitdir, treeOid, signal);
  if (viaGit !== undefined) {
    const files = viaGit.map((b): SourceFile => ({ ...decodeManifest(b.path, b.bytes), path: b.path, oid: b.oid }));
    files.sort((a, b) => compareCodeUnits(a.path, b.path));
    return { root, dir, ref: opts.ref, commit, files };
  }
  const trees = new Map<string, readonly TreeBlob[]>();
  const blobs = [...(await walkTree(gitdir, treeOid, { objects: cache, known: opts.cache?.trees, seen: trees }, signal))];
  blobs.sort((a, b) => compareCodeUnits(a.path, b.path));
  // Concurrent, bounded reads sharing one isomorphic-git cache (packfile indexes are read once).
  const known = opts.cache?.blobs;
  const files = await mapBounded(
    blobs,
    READ_CONCURRENCY,
    async (blob): Promise<SourceFile> => {
      const hit = known?.get(blob.oid);
      const decoded = hit ?? decodeManifest(blob.path, (await git.readBlob({ fs, gitdir, oid: blob.oid, cache })).blob);
      if (known && !hit) known.set(blob.oid, decoded.unreadable ? { text: '', unreadable: decoded.unreadable } : { text: decoded.text });
      return { ...decoded, path: blob.path, oid: blob.oid };
    },
    signal,
  );
  if (opts.cache) {
    const current = new Set(blobs.map((b) => b.oid));
    for (const oid of opts.cache.blobs.keys()) if (!current.has(oid)) opts.cache.blobs.delete(oid);
    opts.cache.trees = trees;
  }
  return { root, dir, ref: opts.ref, commit, files };
}

/**
 * Resolves `ref` to the SHA of a commit (tags peeled). Accepts what `git` accepts for the common
 * cases: branch, tag, full ref, `HEAD`, full or short SHA, and ancestry suffixes `~N`, `^`, `^N`
 * (`main~2`, `v1^`).
 */
export async function resolveCommit(gitdir: string, ref: string, display: string, cache: object = {}): Promise<string> {
  const ancestry = /^(.+?)((?:[~^][0-9]*)+)$/.exec(ref);
  if (ancestry) {
    let oid = await resolveCommit(gitdir, ancestry[1]!, display, cache);
    for (const [, op, digits] of ancestry[2]!.matchAll(/([~^])([0-9]*)/g)) {
      const n = digits === '' ? 1 : Number(digits);
      // `~N`: N first parents; `^N`: the Nth parent (`^0` is the commit itself).
      const steps = op === '~' ? Array.from({ length: n }, () => 1) : n === 0 ? [] : [n];
      for (const parentIndex of steps) {
        const { commit } = await git.readCommit({ fs, gitdir, oid, cache });
        const parent = commit.parent[parentIndex - 1];
        if (parent === undefined) {
          throw new ManifestError(`${display}: ref "${ref}" does not exist (${oid.slice(0, 12)} has no parent ${parentIndex})`, {
            data: { repo: display, ref },
          });
        }
        oid = parent;
      }
    }
    return oid;
  }
  let oid: string | undefined;
  try {
    oid = await git.resolveRef({ fs, gitdir, ref });
  } catch {
    if (/^[0-9a-f]{4,40}$/i.test(ref)) {
      try {
        oid = await git.expandOid({ fs, gitdir, oid: ref.toLowerCase(), cache });
      } catch (cause) {
        const ambiguous = (cause as { code?: string }).code === 'AmbiguousError';
        throw new ManifestError(
          ambiguous
            ? `${display}: commit prefix "${ref}" is ambiguous; give more characters of the SHA`
            : `${display}: ref "${ref}" does not exist (no branch, tag or commit by that name)`,
          { data: { repo: display, ref }, cause },
        );
      }
    }
  }
  if (oid === undefined) {
    throw new ManifestError(`${display}: ref "${ref}" does not exist (no branch, tag or commit by that name)`, {
      data: { repo: display, ref },
    });
  }
  // Peel annotated tags (possibly tags of tags) down to the commit.
  for (let depth = 0; depth < 16; depth++) {
    let object;
    try {
      object = await git.readObject({ fs, gitdir, oid, format: 'parsed', cache });
    } catch (cause) {
      throw new ManifestError(`${display}: ref "${ref}" points at ${oid.slice(0, 12)}, which is missing from the repository`, {
        data: { repo: display, ref, oid },
        cause,
      });
    }
    if (object.type === 'commit') return oid;
    if (object.type === 'tag') {
      oid = (object.object as { object: string }).object;
      continue;
    }
    throw new ManifestError(`${display}: ref "${ref}" points at a ${object.type}, not a commit; give a branch, tag or commit`, {
      data: { repo: display, ref, oid },
    });
  }
  throw new ManifestError(`${display}: ref "${ref}" is a chain of more than 16 tags`, { data: { repo: display, ref } });
}

/**
 * The repository holding `path`: `path` itself or its nearest ancestor that is a working tree
 * (a `.git` directory, or a `.git` file `gitdir: …` for linked worktrees and submodules) or a
 * bare repository. Returns the git directory, the top of the repository and `path` below it.
 */
export async function findRepository(path: string, display: string): Promise<{ gitdir: string; top: string; sub: string }> {
  const exists = await stat(path).catch(() => null);
  if (!exists) throw new ManifestError(`${display}: no such directory; give the repository's path to --repo`, { data: { repo: display } });
  for (let cur = path; ; ) {
    const gitdir = await gitdirAt(cur);
    if (gitdir) return { gitdir, top: cur, sub: relative(cur, path).split(sep).join('/') };
    const parent = dirname(cur);
    if (parent === cur) break;
    cur = parent;
  }
  throw new ManifestError(`${display}: not a git repository (no .git, and not a bare repository); give the repository's path to --repo`, {
    data: { repo: display },
  });
}

/** The git directory of `dir` when `dir` is the top of a working tree or a bare repository. */
export async function gitdirAt(dir: string): Promise<string | undefined> {
  const dotGit = join(dir, '.git');
  const info = await stat(dotGit).catch(() => null);
  if (info?.isDirectory()) return dotGit;
  if (info?.isFile()) {
    const m = /^gitdir:\s*(.+?)\s*$/m.exec(await readFile(dotGit, 'utf8'));
    if (m) return isAbsolute(m[1]!) ? m[1]! : resolve(dir, m[1]!);
  }
  const head = await stat(join(dir, 'HEAD')).catch(() => null);
  const objects = await stat(join(dir, 'objects')).catch(() => null);
  const refs = await stat(join(dir, 'refs')).catch(() => null);
  if (head?.isFile() && objects?.isDirectory() && refs?.isDirectory()) return dir;
  return undefined;
}

/** The manifest blobs below tree `oid`, paths relative to it; trees in `known` are not read again, every tree walked lands in `seen`. */
async function walkTree(
  gitdir: string,
  oid: string,
  caches: { objects: object; known: Map<string, readonly TreeBlob[]> | undefined; seen: Map<string, readonly TreeBlob[]> },
  signal: AbortSignal | undefined,
): Promise<readonly TreeBlob[]> {
  const hit = caches.seen.get(oid) ?? caches.known?.get(oid);
  if (hit !== undefined) {
    caches.seen.set(oid, hit);
    return hit;
  }
  throwIfAborted(signal);
  const { tree } = await git.readTree({ fs, gitdir, oid, cache: caches.objects });
  const out: TreeBlob[] = [];
  for (const entry of tree) {
    if (entry.type === 'tree') {
      if (!SKIPPED_DIRS.has(entry.path)) for (const b of await walkTree(gitdir, entry.oid, caches, signal)) out.push({ path: `${entry.path}/${b.path}`, oid: b.oid });
    } else if (entry.type === 'blob' && entry.mode !== '120000' && isManifestName(entry.path)) {
      // Symlinks (mode 120000) are skipped: their blob is the link target, not a manifest.
      out.push({ path: entry.path, oid: entry.oid });
    }
  }
  caches.seen.set(oid, out);
  return out;
}

function normalizeDir(dir: string): string {
  const parts = dir.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new ManifestError(`--dir "${dir}": must be a path inside the repository`);
  return parts.join('/');
}

/**
 * How many commits `head` (default: `HEAD` of the repository holding `path`) is ahead of
 * `commit`: the commits reachable from head before reaching commit, first parents first. Null
 * when it cannot tell (no repository, unknown commit, or commit not an ancestor of head, as
 * after a force-push). Looks at most `limit` commits deep.
 */
export async function commitsAhead(path: string, commit: string, head = 'HEAD', limit = 10_000): Promise<number | null> {
  try {
    const { gitdir } = await findRepository(resolve(path), path);
    const cache = {};
    const headOid = await resolveCommit(gitdir, head, path, cache);
    if (headOid === commit) return 0;
    const log = await git.log({ fs, gitdir, ref: headOid, depth: limit, cache });
    const at = log.findIndex((c) => c.oid === commit);
    return at < 0 ? null : at;
  } catch {
    return null;
  }
}
