import type { Issue } from '../errors.js';
import { escapePointer } from '../schema/messages.js';
import { didYouMean } from '../schema/suggest.js';
import { issueAt } from './documents.js';
import { pinnedStage, type ProjectScope } from './scope.js';

/** `after`: names another stage of the project, and the stages form no cycle. */
export function checkStageOrder(p: ProjectScope, issues: Issue[]): void {
  const stages = p.stages;
  const names = [...stages.keys()].sort();
  for (const name of names) {
    const d = stages.get(name)!;
    if (!d.checkable) continue;
    const after = d.value.spec.after;
    if (after === undefined) continue;
    if (after === name) {
      issues.push(issueAt(d.parsed, '/spec/after', `stage "${name}" cannot come after itself; name another stage of project ${p.project.name} or remove after`));
    } else if (!stages.has(after)) {
      const known = names.filter((n) => n !== name);
      issues.push(
        issueAt(
          d.parsed,
          '/spec/after',
          `stage "${after}" does not exist in project ${p.project.name}; known stages: ${known.length ? known.join(', ') : 'none'}${didYouMean(after, known)}`,
        ),
      );
    }
  }
  // Cycles: follow `after` from every stage; report each cycle once, at its first stage by name.
  const reported = new Set<string>();
  for (const start of names) {
    const path: string[] = [];
    let cur: string | undefined = start;
    while (cur !== undefined && !path.includes(cur)) {
      path.push(cur);
      const d = stages.get(cur);
      const next: string | undefined = d?.checkable ? d.value.spec.after : undefined;
      cur = next !== undefined && next !== cur && stages.has(next) ? next : undefined;
    }
    if (cur === undefined) continue;
    const cycle = path.slice(path.indexOf(cur));
    const first = [...cycle].sort()[0]!;
    if (reported.has(first)) continue;
    reported.add(first);
    const i = cycle.indexOf(first);
    const ordered = [...cycle.slice(i), ...cycle.slice(0, i), first];
    issues.push(
      issueAt(
        stages.get(first)!.parsed,
        '/spec/after',
        `stages ${ordered.join(' → ')} form an "after" cycle in project ${p.project.name}; remove after from one of them`,
      ),
    );
  }
}

/** `stages:` overrides must name stages the app or service exists in. */
export function checkOverrideTargets(p: ProjectScope, issues: Issue[]): void {
  const names = [...p.stages.keys()].sort();
  const all = [...p.apps.values(), ...p.services.values()].flat();
  for (const d of all) {
    if (!d.checkable) continue;
    const overrides = d.value.spec.stages ?? {};
    const pinned = pinnedStage(d);
    const label = `${d.kind.toLowerCase()} "${d.name}"`;
    for (const stage of Object.keys(overrides).sort()) {
      const ptr = `/spec/stages/${escapePointer(stage)}`;
      if (!p.stages.has(stage)) {
        issues.push(
          issueAt(
            d.parsed,
            ptr,
            `override for stage "${stage}" matches no stage of project ${p.project.name}; known stages: ${names.length ? names.join(', ') : 'none'}${didYouMean(stage, names)}`,
            'key',
          ),
        );
      } else if (pinned !== undefined && pinned !== stage) {
        issues.push(issueAt(d.parsed, ptr, `override for stage "${stage}" never applies: ${label} exists only in stage "${pinned}"`, 'key'));
      }
    }
  }
}

