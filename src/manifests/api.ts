import type { Issue } from '../errors.js';
import type { PolicyRule } from '../model/policy.js';
import type { StageModel } from '../model/stage-model.js';

/**
 * The files of one config source: a working-tree directory or the tree of a git commit.
 * Paths are relative to the config root, posix separators, sorted.
 */
export interface SourceFiles {
  /** Absolute path of the config directory (directory source) or of the repository (git source). */
  root: string;
  /** Sub-directory of the repository that holds the manifests ('' for the root). */
  dir: string;
  /** Git source: the ref as given and the commit it resolved to. */
  ref?: string;
  commit?: string;
  files: SourceFile[];
}

/** One manifest file of a source. */
export interface SourceFile {
  path: string;
  text: string;
  /** Git source: the blob id of the file's content (what a parse cache keys on instead of hashing the text). */
  oid?: string;
  /** The file could not be decoded (not UTF-8): where and why; `text` is empty. */
  unreadable?: { line: number; col: number; message: string };
}

/** Validation result: every issue, not only the first, in a stable order. */
export type Result<T> = { ok: true; value: T } | { ok: false; issues: Issue[] };

/**
 * The desired state of a whole source: one resolved StageModel per stage, sorted by
 * `organization/project/stage`, and where each part of each stage came from.
 */
export interface DesiredState {
  stages: StageModel[];
  /**
   * By stage key (`org/project/stage`) and subject (`stage`, `app/NAME`, `service/NAME`,
   * `notification/NAME`): the manifest files that declared or overrode it (sorted).
   */
  origins: Record<string, Record<string, string[]>>;
  /** The rules of the `kind: Policy` documents, by policy and rule name (absent: none declared). */
  policies?: PolicyRule[];
  counts: { organizations: number; projects: number; stages: number; apps: number; services: number };
}

/**
 * The directory holding the manifests: `root` joined with `dir`. App `workdir`s and relative
 * secrets-file paths are relative to it (for a directory source it is `root`; for a git source
 * `repo/dir`, which is a real directory when the repository has a working tree).
 */
export function configDirOf(source: Pick<SourceFiles, 'root' | 'dir'>): string {
  return source.dir ? `${source.root.replace(/\/+$/, '')}/${source.dir}` : source.root;
}
