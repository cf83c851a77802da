import { readFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ManifestError, throwIfAborted } from '../errors.js';
import { compareCodeUnits } from '../model/canonical.js';
import type { SourceFile, SourceFiles } from './api.js';
import { SKIPPED_DIRS, decodeManifest, isManifestName } from './decode.js';

/** Files read between two turns of the event loop by `readDirectory`. */
const READ_CHUNK = 256;

/**
 * Reads every `*.yaml` / `*.yml` file under `dir` (recursively; `node_modules`, `.git` and
 * `.setopsd` are skipped, symlinked directories are not followed) as the working tree is now.
 * `dir` may also name a single manifest file. Paths in the result are relative to `dir`, with
 * `/` separators, sorted by code unit.
 *
 * Throws a ManifestError when `dir` does not exist, a file cannot be read (a file that is not UTF-8 comes back `unreadable`);
 * messages name the directory as `display` (default: `dir` as given).
 */
export async function readDirectory(dir: string, signal?: AbortSignal, display: string = dir): Promise<SourceFiles> {
  const root = resolve(dir);
  const info = await stat(root).catch((cause: NodeJS.ErrnoException) => {
    if (cause.code === 'ENOENT' || cause.code === 'ENOTDIR') {
      throw new ManifestError(`${display}: no such directory; give the directory that holds the manifests`, {
        data: { dir: display },
        cause,
      });
    }
    throw new ManifestError(`${display}: cannot read (${cause.code ?? cause.message})`, { data: { dir: display }, cause });
  });
  if (info.isFile()) {
    return { root: dirname(root), dir: '', files: [readText(root, basename(root))] };
  }
  const paths: string[] = [];
  await collect(root, '', paths, signal);
  paths.sort(compareCodeUnits);
  // Synchronous reads in chunks, yielding to the event loop between chunks (the daemon keeps
  // serving): manifests are small, and each asynchronous read is four round trips through
  // libuv's thread pool — one after another most of a load waited on them, and even 16 in
  // flight took 5-8x as long as reading them in place, more on a busy machine.
  const files: SourceFile[] = [];
  for (let i = 0; i < paths.length; i += READ_CHUNK) {
    if (i > 0) await new Promise((resolve) => setImmediate(resolve));
    throwIfAborted(signal);
    for (const path of paths.slice(i, i + READ_CHUNK)) files.push(readText(join(root, path), path));
  }
  return { root, dir: '', files };
}

async function collect(abs: string, rel: string, out: string[], signal: AbortSignal | undefined): Promise<void> {
  throwIfAborted(signal);
  let entries;
  try {
    entries = await readdir(abs, { withFileTypes: true });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'error';
    throw new ManifestError(`${rel || '.'}: cannot list directory (${code}); check its permissions`, { cause });
  }
  for (const entry of entries) {
    const childRel = rel ? `${rel}/${entry.name}` : entry.name;
    const childAbs = join(abs, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) await collect(childAbs, childRel, out, signal);
    } else if (isManifestName(entry.name)) {
      if (entry.isFile()) out.push(childRel);
      else if (entry.isSymbolicLink()) {
        // Follow symlinked files, never symlinked directories (no cycles, no escaping the tree).
        const target = await stat(childAbs).catch(() => null);
        if (target?.isFile()) out.push(childRel);
      }
    }
  }
}

function readText(abs: string, rel: string): SourceFile {
  let bytes: Buffer;
  try {
    bytes = readFileSync(abs);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'error';
    throw new ManifestError(`${rel}: cannot read manifest (${code}); check that it exists and is readable`, {
      data: { file: rel },
      cause,
    });
  }
  return decodeManifest(rel, bytes);
}
