import type { Issue } from '../errors.js';
import { issueAt, type DeclaredApp } from './documents.js';

/**
 * Problems of a project-wide app that recur in several stages (a link to a missing service):
 * reported once, naming every stage, instead of once per stage at the same position.
 */
export type StagedIssues = Map<string, { parsed: DeclaredApp['parsed']; pointer: string; stages: string[]; render: (stages: string) => string }>;

/** Collects a problem of `stage`; `render` gets `stage X` or `stages X, Y`. */
export function addStaged(staged: StagedIssues, parsed: DeclaredApp['parsed'], pointer: string, stage: string, render: (stages: string) => string): void {
  const key = `${parsed.file}\u0000${parsed.index}\u0000${pointer}\u0000${render('\u0000')}`;
  const entry = staged.get(key);
  if (entry) entry.stages.push(stage);
  else staged.set(key, { parsed, pointer, stages: [stage], render });
}

/** Adds every collected problem to `issues`, naming its stages. */
export function flushStaged(staged: StagedIssues, issues: Issue[]): void {
  for (const { parsed, pointer, stages, render } of staged.values()) {
    const sorted = [...stages].sort();
    issues.push(issueAt(parsed, pointer, render(sorted.length === 1 ? `stage ${sorted[0]}` : `stages ${sorted.join(', ')}`)));
  }
}

/** How many stage-problems are collected (each problem counts once per stage it names). */
export function stagedCount(staged: StagedIssues): number {
  let n = 0;
  for (const entry of staged.values()) n += entry.stages.length;
  return n;
}
