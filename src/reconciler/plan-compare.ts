import type { DesiredState, SourceFiles } from '../manifests/api.js';
import { refOf, stageKey } from '../model/stage-model.js';
import { hashOf } from '../model/canonical.js';
import { ownerSubject, type StagePlan } from './stage-plan.js';

/**
 * Pure helpers for pull-request plans (`plan --base --head`, `diff`): which stages' desired
 * state differs between two commits, and which changed files are behind each change.
 */

/** Desired-model hashes by stage key. */
export function stageHashes(desired: DesiredState): Map<string, string> {
  return new Map(desired.stages.map((s) => [stageKey(refOf(s)), hashOf(s)] as const));
}

/** Keys of stages whose desired model differs between base and head (added, removed or changed), sorted. */
export function changedStageKeys(base: DesiredState, head: DesiredState): string[] {
  const a = stageHashes(base);
  const b = stageHashes(head);
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => a.get(k) !== b.get(k)).sort();
}

/** Manifest paths added, removed or edited between two sources, sorted. */
export function changedFiles(base: SourceFiles, head: SourceFiles): string[] {
  const a = new Map(base.files.map((f) => [f.path, f.text] as const));
  const b = new Map(head.files.map((f) => [f.path, f.text] as const));
  const paths = new Set([...a.keys(), ...b.keys()]);
  return [...paths].filter((p) => a.get(p) !== b.get(p)).sort();
}

/**
 * Names the files that caused each change of a stage plan: the files declaring the subject
 * (its app for links, domains and env) in head or base that changed between them. When none of
 * them changed (e.g. drift of the deployed stage), the declaring files are kept.
 */
export function attributeFiles(plan: StagePlan, changed: readonly string[], base: DesiredState, head: DesiredState): StagePlan {
  const touched = new Set(changed);
  const origins = [head.origins[plan.key] ?? {}, base.origins[plan.key] ?? {}];
  const files: Record<string, string[]> = {};
  for (const c of plan.changeset.changes) {
    const owner = ownerSubject(c.subject);
    const declared = new Set<string>();
    for (const o of origins) for (const f of o[owner] ?? []) declared.add(f);
    const caused = [...declared].filter((f) => touched.has(f));
    const list = (caused.length > 0 ? caused : [...declared]).sort();
    if (list.length > 0) files[c.subject] = list;
  }
  return { ...plan, files };
}
