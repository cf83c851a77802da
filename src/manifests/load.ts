import type { Issue } from '../errors.js';
import { compareCodeUnits } from '../model/canonical.js';
import { stageKey, refOf } from '../model/stage-model.js';
import { sharedValidators, type Validators } from '../schema/validate.js';
import type { DesiredState, Result, SourceFiles } from './api.js';
import type { AnyDeclared } from './documents.js';
import { parseSelected, type ParseCache } from './parse-selected.js';
import { collectPolicies } from './policies.js';
import { resolveStages, type StageCache } from './resolve.js';
import { buildScope } from './scope.js';

/** Options of `loadDesired`. */
export interface LoadOptions {
  /** Compiled schemas; default: the shared, lazily compiled set. */
  validators?: Validators;
  /**
   * Parsed and validated documents by file path and content (the daemon keeps one across
   * revisions, so a commit that changes one file parses one file). Entries are frozen: the rest
   * of the load only reads them. Entries of files no longer in the source are dropped.
   */
  cache?: ParseCache;
  /**
   * Resolved stages by key and the declarations they came from (the daemon keeps one beside
   * `cache`): a stage none of whose declarations changed is not resolved again, and its model is
   * the same object as in the previous load. Models are shared: treat them as read-only.
   */
  stageCache?: StageCache;
  /**
   * `--stage` selectors (ORG/PROJECT/STAGE, PROJECT/STAGE or STAGE): only the stages they match
   * are resolved (every file is still parsed and checked; `plan --stage X` does not resolve,
   * hash or plan the others). Default: every stage.
   */
  stages?: readonly string[];
}

export type { ParseCache } from './parse-selected.js';
export type { StageCache } from './resolve.js';

/**
 * Turns the manifests of a source into the desired state: one canonical StageModel per stage.
 * PURE: no IO, no clock, no environment. Parses every YAML document with positions, validates
 * it against its kind's JSON Schema (filling in defaults), checks what spans documents (scopes,
 * names, references, `after` cycles, overrides, excludes, links, domains) and resolves every
 * stage. Returns every problem found, sorted by file, line, column and pointer, or the state.
 *
 * The same manifests give byte-identical models whatever the order of files and documents.
 */
export function loadDesired(files: SourceFiles, opts: LoadOptions = {}): Result<DesiredState> {
  const validators = opts.validators ?? sharedValidators();
  const issues: Issue[] = [];
  const declared: AnyDeclared[] = [];
  const parsed = parseSelected(files, validators, opts.cache);
  issues.push(...parsed.issues);
  declared.push(...parsed.declared);
  const scope = buildScope(declared, issues);
  const policies = collectPolicies(declared, issues);
  // A selector that matches no stage of the manifests (a typo, or a stage only in the state
  // directory) resolves everything, so the caller's "no such stage" can list every known one.
  const keys = [...scope.projects].flatMap(([project, p]) => [...p.stages.keys()].map((stage) => `${project}/${stage}`));
  const selectors = opts.stages ?? [];
  const narrowed = selectors.length > 0 && selectors.every((sel) => keys.some((key) => matchesStage(key, sel)));
  const resolved = resolveStages(scope, validators, issues, narrowed ? (key) => selectors.some((sel) => matchesStage(key, sel)) : undefined, opts.stageCache);
  if (issues.length > 0) return { ok: false, issues: sortIssues(issues) };

  resolved.sort((a, b) => compareCodeUnits(stageKey(refOf(a.model)), stageKey(refOf(b.model))));
  const origins: DesiredState['origins'] = {};
  for (const r of resolved) origins[stageKey(refOf(r.model))] = r.origins;
  const count = (kind: string) => declared.filter((d) => d.kind === kind).length;
  return {
    ok: true,
    value: {
      stages: resolved.map((r) => r.model),
      origins,
      policies,
      counts: {
        organizations: count('Organization'),
        projects: count('Project'),
        stages: count('Stage'),
        apps: count('App'),
        services: count('Service'),
      },
    },
  };
}

/** Whether a stage key `org/project/stage` ends with the selector's parts (as `--stage` matches). */
function matchesStage(key: string, selector: string): boolean {
  const parts = selector.split('/');
  const k = key.split('/');
  return parts.length <= 3 && parts.every((p, i) => p === k[k.length - parts.length + i]);
}

/** Stable issue order: file, line, column, pointer, message; exact duplicates dropped. */
export function sortIssues(issues: Issue[]): Issue[] {
  const sorted = [...issues].sort(compareIssues);
  return sorted.filter((x, i) => i === 0 || compareIssues(x, sorted[i - 1]!) !== 0);
}

function compareIssues(a: Issue, b: Issue): number {
  return (
    compareCodeUnits(a.file, b.file) ||
    a.line - b.line ||
    a.col - b.col ||
    compareCodeUnits(a.pointer, b.pointer) ||
    compareCodeUnits(a.message, b.message)
  );
}
