import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import type { CommandContext } from './command.js';
import { ManifestError, UsageError, ValidationError, type Issue } from '../errors.js';
import type { DesiredState, SourceFiles } from '../manifests/api.js';
import { loadDesired } from '../manifests/load.js';
import { readDirectory } from '../manifests/source-dir.js';
import { excludedByDefault } from '../manifests/select.js';

/** parseArgs options of every command that reads manifests: `[DIR | --repo PATH --ref REF [--dir SUB]]`. */
export const SOURCE_OPTIONS = {
  repo: { type: 'string' },
  ref: { type: 'string' },
  dir: { type: 'string' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** Help text lines for SOURCE_OPTIONS, for commands' `--help`. */
export const SOURCE_HELP = [
  '  DIR              directory holding the manifests (default: .), read as it is on disk',
  '  --repo PATH      read the manifests from a git repository (working tree or bare) instead',
  '  --ref REF        branch, tag, commit (full or short SHA) or REF~N to read with --repo (default: HEAD)',
  '  --dir SUB        sub-directory of the repository holding the manifests (default: its root)',
].join('\n');

/**
 * Reads the manifests a command line names: `DIR` (the first positional, default `.`) as it is
 * on disk, or with `--repo PATH` the tree of `--ref` (default `HEAD`) from the git object
 * database, optionally below `--dir`. Relative paths are taken against `deps.cwd`.
 * Throws UsageError for contradictory options and ManifestError when the source cannot be read
 * or holds no manifest files at all.
 */
export async function readSourceFromArgs(ctx: CommandContext): Promise<SourceFiles> {
  const { values, positionals } = ctx.args;
  const repo = values.repo as string | undefined;
  const ref = values.ref as string | undefined;
  const dir = values.dir as string | undefined;
  const given = positionals[0];
  let source: SourceFiles;
  let where: string;
  if (repo !== undefined) {
    if (given !== undefined) throw new UsageError(`give either a directory ("${given}") or --repo, not both`);
    // isomorphic-git is loaded only for git sources: a directory source starts faster without it.
    const { readGitTree } = await import('../manifests/source-git.js');
    source = await readGitTree({ repo: resolve(ctx.deps.cwd, repo), ref: ref ?? 'HEAD', dir, display: repo }, ctx.signal);
    where = `${repo} at ${source.ref}${source.dir ? ` in ${source.dir}/` : ''}`;
  } else {
    if (ref !== undefined) throw new UsageError('--ref needs --repo PATH (the repository to read the ref from)');
    if (dir !== undefined) throw new UsageError('--dir needs --repo PATH; for a working tree give the directory itself');
    source = await readDirectory(resolve(ctx.deps.cwd, given ?? '.'), ctx.signal, given ?? '.');
    where = given ?? '.';
  }
  // An empty source is almost always the wrong directory; planning or applying "nothing" must
  // not be the result of a typo.
  if (source.files.every((f) => excludedByDefault(f.path))) {
    throw new ManifestError(`${where}: no manifest files (*.yaml, *.yml) found; give the directory that holds the manifests`);
  }
  return source;
}

/** Loads a source's desired state or throws the located ValidationError (exit 1, nothing planned). */
export function desiredOf(source: SourceFiles, cwd: string, stages: readonly string[] = []): DesiredState {
  const result = loadDesired(source, { stages });
  if (!result.ok) throw new ValidationError(displayIssues(source, result.issues, cwd));
  return result.value;
}

/**
 * How to show a manifest path to the person at `cwd`: for a directory source relative to
 * `cwd` (absolute when outside it); for a git source relative to the repository root.
 */
export function displayPath(source: SourceFiles, file: string, cwd: string): string {
  if (source.commit !== undefined) return source.dir ? `${source.dir}/${file}` : file;
  const abs = join(source.root, file);
  const rel = relative(cwd, abs);
  if (rel === '') return '.';
  return !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : abs;
}

/** Issues with their file shown as `displayPath` (order kept). */
export function displayIssues(source: SourceFiles, issues: Issue[], cwd: string): Issue[] {
  return issues.map((i) => ({ ...i, file: displayPath(source, i.file, cwd) }));
}

/** `examples/setops.yaml`, `3 files in config/`, `main 1a2b3c4d: 2 files in config/`. */
export function describeSource(source: SourceFiles, cwd: string): string {
  const files = source.files.filter((f) => !excludedByDefault(f.path)).map((f) => displayPath(source, f.path, cwd));
  let where: string;
  if (files.length === 0) where = 'no manifest files';
  else if (files.length <= 3) where = files.join(', ');
  else {
    const base = source.commit !== undefined ? source.dir || '.' : displayPath(source, '', cwd);
    where = `${files.length} files in ${base.endsWith('/') ? base : base + '/'}`;
  }
  return source.commit !== undefined ? `${source.ref} ${source.commit.slice(0, 12)}: ${where}` : where;
}
