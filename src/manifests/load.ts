import type { Issue } from '../errors.js';
import { compareCodeUnits, sortKeys } from '../model/canonical.js';
import { stageKey, refOf } from '../model/stage-model.js';
import { sharedValidators, type Validators } from '../schema/validate.js';
import type { DesiredState, Result, SourceFiles } from './api.js';
import { declare, type AnyDeclared } from './documents.js';
import { resolveStages } from './resolve.js';
import { buildScope } from './scope.js';
import { parseFile } from './yaml-docs.js';

/** Options of `loadDesired`. */
export interface LoadOptions {
  /** Compiled schemas; default: the shared, lazily compiled set. */
  validators?: Validators;
}

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
  const sorted = [...files.files].sort((a, b) => compareCodeUnits(a.path, b.path));
  for (const file of sorted) {
    for (const parsed of parseFile(file.path, file.text, issues)) {
      const d = declare(parsed, validators, issues);
      if (d) declared.push(d);
    }
  }
  const scope = buildScope(declared, issues);
  const resolved = resolveStages(scope, validators, issues);
  if (issues.length > 0) return { ok: false, issues: sortIssues(issues) };

  resolved.sort((a, b) => compareCodeUnits(stageKey(refOf(a.model)), stageKey(refOf(b.model))));
  const origins: DesiredState['origins'] = {};
  for (const r of resolved) origins[stageKey(refOf(r.model))] = sortKeys(r.origins);
  const count = (kind: string) => declared.filter((d) => d.kind === kind).length;
  return {
    ok: true,
    value: {
      stages: resolved.map((r) => r.model),
      origins,
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
