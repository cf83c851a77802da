import type { Change, Summary } from '../model/changeset.js';

/** Counts per operation plus how many changes lose data. */
export interface PlanSummary extends Summary {
  dataLoss: number;
}

/** An all-zero summary. */
export function emptySummary(): PlanSummary {
  return { create: 0, update: 0, replace: 0, delete: 0, dataLoss: 0 };
}

/** Counts the changes by operation (engine resource lines, subject `resource/…`, are not counted). */
export function summarize(changes: readonly Change[]): PlanSummary {
  const s = emptySummary();
  for (const c of changes) {
    if (c.subject.startsWith('resource/')) continue;
    s[c.op] += 1;
    if (c.dataLoss) s.dataLoss += 1;
  }
  return s;
}

/** Sum of several summaries. */
export function addSummaries(summaries: readonly PlanSummary[]): PlanSummary {
  const s = emptySummary();
  for (const x of summaries) {
    s.create += x.create;
    s.update += x.update;
    s.replace += x.replace;
    s.delete += x.delete;
    s.dataLoss += x.dataLoss;
  }
  return s;
}

/** `1 to create, 2 to update, 0 to replace, 1 to delete` (+ `, 1 with data loss`). */
export function summaryLine(s: PlanSummary): string {
  const parts = [`${s.create} to create`, `${s.update} to update`, `${s.replace} to replace`, `${s.delete} to delete`];
  if (s.dataLoss > 0) parts.push(`${s.dataLoss} with data loss`);
  return parts.join(', ');
}
