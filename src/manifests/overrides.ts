import type { Issue } from '../errors.js';
import { appSpecSchema, serviceSpecSchema } from '../schema/kinds.js';
import { escapePointer, splitPointer, type SchemaProblem } from '../schema/messages.js';
import { didYouMean } from '../schema/suggest.js';
import { issueAt, normalizeVersion, type DeclaredApp, type DeclaredService } from './documents.js';
import { isPlainObject, mergePatch } from './merge-patch.js';

/** Maps a problem in a merged spec back to the document: into the override where it came from. */
function overrideIssue(d: DeclaredApp | DeclaredService, stage: string, problem: SchemaProblem): Issue {
  const segments = splitPointer(problem.pointer);
  if (problem.missing !== undefined) segments.push(problem.missing);
  const fromPatch = writtenInPatch(d.value.spec.stages?.[stage], segments);
  const suffix = ` (in stage ${stage}, after its override)`;
  if (fromPatch) {
    const pointer = `/spec/stages/${escapePointer(stage)}` + (problem.missing !== undefined ? segments.map((s) => '/' + escapePointer(s)).join('') : problem.pointer);
    const message = problem.missing !== undefined ? `${problem.message}: the override removes it` : problem.message;
    return issueAt(d.parsed, pointer, message + suffix, problem.missing !== undefined ? 'key' : problem.at);
  }
  return issueAt(d.parsed, '/spec' + problem.pointer, problem.message + suffix, problem.at);
}

/** Where a merged-spec pointer is written in the document (override or base). */
export function specPointer(d: DeclaredApp | DeclaredService, stage: string, pointer: string): string {
  const patch = d.value.spec.stages?.[stage];
  if (patch !== undefined && writtenInPatch(patch, splitPointer(pointer))) return `/spec/stages/${escapePointer(stage)}${pointer}`;
  return '/spec' + pointer;
}

/**
 * Whether the value at `segments` of a merged spec is written in the stage's patch: the patch
 * holds the whole path, or a non-object value on the way (which replaces everything below it).
 */
function writtenInPatch(patch: unknown, segments: string[]): boolean {
  let cur = patch;
  let depth = 0;
  while (depth < segments.length && isPlainObject(cur) && segments[depth]! in cur) {
    cur = cur[segments[depth]!];
    depth++;
  }
  return depth === segments.length || (depth > 0 && !isPlainObject(cur));
}

/** The spec of `d` on `stage`: base, or base + override validated as a whole. */
export function specFor<S>(
  d: DeclaredApp | DeclaredService,
  stage: string,
  check: (v: unknown) => SchemaProblem[],
  issues: Issue[],
): S | undefined {
  if (!d.checkable) return undefined;
  const { stages, ...base } = d.value.spec as { stages?: Record<string, unknown> };
  const patch = stages?.[stage];
  if (patch === undefined) return base as S;
  const schema = d.kind === 'App' ? appSpecSchema : serviceSpecSchema;
  const typos = nullRemovals(patch, schema, '');
  if (isPlainObject(patch) && 'stages' in patch) {
    typos.push({ pointer: '/stages', at: 'key', message: 'an override cannot hold stages: overrides do not nest; write each stage under the top-level stages' });
  }
  if (typos.length > 0) issues.push(...typos.map((p) => overrideIssue(d, stage, p)));
  const merged = mergePatch(base, patch);
  if (d.kind === 'Service') normalizeVersion(merged);
  const problems = check(merged);
  if (problems.length > 0) {
    issues.push(...problems.map((p) => overrideIssue(d, stage, p)));
    return undefined;
  }
  return typos.length > 0 ? undefined : (merged as S);
}

/**
 * `null` for a field the spec does not have removes nothing, so the merged spec cannot show the
 * typo (`prot: null`): find such keys against the schema's properties.
 */
function nullRemovals(patch: unknown, schema: unknown, pointer: string): SchemaProblem[] {
  if (!isPlainObject(patch) || !isPlainObject(schema) || !isPlainObject(schema.properties)) return [];
  const properties = schema.properties;
  const out: SchemaProblem[] = [];
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    const at = `${pointer}/${escapePointer(key)}`;
    if (key in properties) out.push(...nullRemovals(value, properties[key], at));
    else if (value === null && schema.additionalProperties === false) {
      out.push({ pointer: at, at: 'key', message: `unknown field "${key}"; removing it changes nothing${didYouMean(key, Object.keys(properties))}` });
    }
  }
  return out;
}

