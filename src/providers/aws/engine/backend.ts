/**
 * Where a stage's Pulumi stack lives: project and stack names, the persistent work directory,
 * and the state backend.
 *
 * Layout (decided here; docs/architecture.md, "What is stored"): one Pulumi project per setopsd project
 * (`setops-<org>-<project>`), one stack per stage (`<stage>`). Each stage keeps its own
 * Pulumi work directory at `<stageDir>/pulumi/work` (Pulumi.yaml, Pulumi.<stage>.yaml with the
 * passphrase salt and `aws:region`), and, unless the Organization names a backend, its own
 * file backend at `<stageDir>/pulumi/backend`: stages share nothing, a stage's state moves
 * and is removed with its state directory, and one stage's lock never blocks another.
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { OrganizationModel, StageRef } from '../../../model/stage-model.js';
import { stageDir } from '../../../state/paths.js';

/** The kind of a Pulumi backend URL. DIY backends (file, s3, gs, azblob, postgres) keep state themselves. */
export type BackendKind = 'file' | 's3' | 'cloud' | 'diy';

export interface BackendInfo {
  /** The URL given to Pulumi (`PULUMI_BACKEND_URL`). */
  url: string;
  kind: BackendKind;
  /** For `file` backends: the absolute directory holding `.pulumi/`. */
  root?: string;
  /** True when the Organization names no backend and the per-stage default is used. */
  isDefault: boolean;
}

/** One stage's Pulumi stack. */
export interface StackLocation {
  ref: StageRef;
  /** Pulumi project name: `setops-<org>-<project>`. */
  project: string;
  /** Pulumi stack name: the stage name. */
  stack: string;
  /** Name that identifies the stack on any backend (DIY backends require the org `organization`). */
  qualifiedStack: string;
  /** Persistent Pulumi work directory of the stage. */
  workDir: string;
  backend: BackendInfo;
}

/** The Pulumi project name of a setopsd project. */
export function pulumiProjectName(ref: StageRef): string {
  return `setops-${ref.organization}-${ref.project}`;
}

/** Resolves a backend URL; `file://` paths may be absolute, `~`-relative, or relative to `cwd`. */
export function parseBackend(url: string, cwd: string, home = homedir()): BackendInfo {
  if (url.startsWith('file://')) {
    let path = url.slice('file://'.length);
    if (path === '~' || path.startsWith('~/')) path = join(home, path.slice(1));
    else if (!isAbsolute(path)) path = resolve(cwd, path);
    return { url: `file://${path}`, kind: 'file', root: path, isDefault: false };
  }
  if (url.startsWith('s3://')) return { url, kind: 's3', isDefault: false };
  if (/^https?:\/\//.test(url)) return { url, kind: 'cloud', isDefault: false };
  return { url, kind: 'diy', isDefault: false };
}

/** Where the stage's stack lives, from the Organization settings and the state directory. */
export function stackLocation(stateDir: string, organization: OrganizationModel, ref: StageRef, cwd: string): StackLocation {
  const dir = join(stageDir(stateDir, ref), 'pulumi');
  const backend: BackendInfo = organization.backend
    ? parseBackend(organization.backend, cwd)
    : { url: `file://${join(dir, 'backend')}`, kind: 'file', root: join(dir, 'backend'), isDefault: true };
  const project = pulumiProjectName(ref);
  const qualifiedStack = backend.kind === 'cloud' ? ref.stage : `organization/${project}/${ref.stage}`;
  return { ref, project, stack: ref.stage, qualifiedStack, workDir: join(dir, 'work'), backend };
}

/**
 * Candidate checkpoint files of a stack in a file backend, in the order Pulumi uses them:
 * the project-scoped layout (`.pulumi/stacks/<project>/<stack>.json`, the default since
 * Pulumi 3.61 — `.pulumi/meta.yaml` says `version: 1`) and the legacy layout
 * (`.pulumi/stacks/<stack>.json`); each possibly gzip- or zstd-compressed.
 */
export function checkpointPaths(root: string, project: string, stack: string, layoutVersion?: number): string[] {
  const projectBase = join(root, '.pulumi', 'stacks', project, stack);
  const legacyBase = join(root, '.pulumi', 'stacks', stack);
  // A backend whose meta.yaml says version 1 or later never holds legacy stack files: a
  // `<stack>.json` at the top there belongs to no project of ours.
  const bases = layoutVersion !== undefined && layoutVersion >= 1 ? [projectBase] : [projectBase, legacyBase];
  return bases.flatMap((b) => [`${b}.json`, `${b}.json.gz`, `${b}.json.zst`]);
}

/** The layout version in a file backend's `.pulumi/meta.yaml` (`version: 1`); undefined when absent. */
export function parseMetaVersion(text: string): number | undefined {
  const m = /^version:\s*(\d+)\s*$/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Lock directories of a stack in a file backend (project-scoped, then legacy layout). */
export function lockDirs(root: string, project: string, stack: string): string[] {
  return [join(root, '.pulumi', 'locks', 'organization', project, stack), join(root, '.pulumi', 'locks', stack)];
}
