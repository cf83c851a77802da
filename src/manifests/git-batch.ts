import { spawn } from 'node:child_process';
import { CanceledError, throwIfAborted } from '../errors.js';
import { SKIPPED_DIRS, isManifestName } from './decode.js';

/** One manifest blob of a tree: its path below the tree, its blob id and its bytes. */
export interface TreeBlob {
  path: string;
  oid: string;
  bytes: Uint8Array;
}

/**
 * Reads every manifest blob below the tree `treeOid` with the git binary: one `git ls-tree -r`
 * and one `git cat-file --batch` for all blobs (a tenth of a second for 10,000 files, where
 * isomorphic-git reads object by object). The same selection as the isomorphic-git walk:
 * `*.yaml` / `*.yml` blobs, symlinks (mode 120000) and submodules (commit entries) skipped, no
 * descent into `node_modules`, `.git`, `.setopsd`. Paths are in git's order, not sorted.
 *
 * Returns undefined when git cannot do it — not installed, it refuses the repository (an
 * object format or ownership it does not accept), an object is missing — so the caller reads
 * with isomorphic-git instead and reports what that finds. Throws only when `signal` aborts.
 */
export async function readTreeWithGit(gitBinary: string, gitdir: string, treeOid: string, signal?: AbortSignal): Promise<TreeBlob[] | undefined> {
  const run = (args: string[], input?: string) => runGit(gitBinary, gitdir, args, input, signal);
  const listing = await run(['ls-tree', '-r', '-z', treeOid]);
  if (listing === undefined) return undefined;
  const wanted: { path: string; oid: string }[] = [];
  for (const entry of listing.toString('utf8').split('\0')) {
    // `<mode> SP <type> SP <oid> TAB <path>`
    const m = /^(\d+) (\w+) ([0-9a-f]+)\t(.*)$/s.exec(entry);
    if (!m) continue;
    const [, mode, type, oid, path] = m as unknown as [string, string, string, string, string];
    if (type !== 'blob' || mode === '120000') continue;
    const segments = path.split('/');
    if (!isManifestName(segments[segments.length - 1]!) || segments.slice(0, -1).some((s) => SKIPPED_DIRS.has(s))) continue;
    wanted.push({ path, oid });
  }
  if (wanted.length === 0) return [];
  const batch = await run(['cat-file', '--batch'], wanted.map((w) => w.oid).join('\n') + '\n');
  if (batch === undefined) return undefined;
  const blobs = splitBatch(batch, wanted.length);
  if (blobs === undefined) return undefined;
  return wanted.map((w, i) => ({ path: w.path, oid: w.oid, bytes: blobs[i]! }));
}

/**
 * Splits `git cat-file --batch` output: per object `<oid> SP <type> SP <size> LF <bytes> LF`.
 * Undefined when an object is missing or is not a blob, or the output is cut short.
 */
function splitBatch(out: Buffer, count: number): Uint8Array[] | undefined {
  const blobs: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const eol = out.indexOf(0x0a, at);
    if (eol < 0) return undefined;
    const header = /^[0-9a-f]+ blob (\d+)$/.exec(out.toString('latin1', at, eol));
    if (!header) return undefined;
    const size = Number(header[1]);
    const start = eol + 1;
    if (start + size + 1 > out.length) return undefined;
    blobs.push(out.subarray(start, start + size));
    at = start + size + 1;
  }
  return blobs;
}

/** Stdout of one git command, or undefined when git is missing or fails. */
function runGit(gitBinary: string, gitdir: string, args: string[], input: string | undefined, signal: AbortSignal | undefined): Promise<Buffer | undefined> {
  throwIfAborted(signal);
  // The repository is named explicitly; GIT_* variables of the caller's environment (GIT_DIR,
  // GIT_INDEX_FILE, … as set inside a git hook) must not redirect it.
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GIT_')) env[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(gitBinary, [`--git-dir=${gitdir}`, ...args], { cwd: gitdir, env, stdio: ['pipe', 'pipe', 'ignore'], signal });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stdin.on('error', () => undefined); // git gone early: its exit status says why
    const aborted = () => (signal?.aborted ? (reject(new CanceledError('canceled', { cause: signal.reason })), true) : false);
    child.on('error', () => aborted() || resolve(undefined));
    child.on('close', (code) => aborted() || resolve(code === 0 ? Buffer.concat(chunks) : undefined));
    child.stdin.end(input ?? '');
  });
}
