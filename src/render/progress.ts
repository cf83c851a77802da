import { stageKey } from '../model/stage-model.js';
import type { ApplyEvent, StageOutcome } from '../operations/apply-stage.js';
import type { Summary } from '../model/changeset.js';

/** One line (with newline) per apply event, prefixed by the stage; empty for events not shown. */
export function renderApplyEvent(event: ApplyEvent): string {
  const stage = stageKey(event.ref);
  switch (event.type) {
    case 'lock-taken-over':
      return `${stage}: took over the lock of ${event.holder ? `PID ${event.holder.pid} (${event.holder.command}, since ${event.holder.startedAt}), which is gone` : 'an unreadable lock file'}\n`;
    case 'interrupted':
      return `${stage}: deployment #${event.deployment.number} was interrupted (process ${event.deployment.pid} gone); recorded as failed\n`;
    case 'unchanged':
      return `${stage}: no changes\n`;
    case 'started':
      return `${stage}: deployment #${event.deployment.number} started (${renderCounts(event.deployment.summary)})\n`;
    case 'progress': {
      const { subject, status, message } = event.event;
      // Links, domains, env and the stage itself are instant: show their outcome only.
      if (status === 'started' && !/^(app|service|resource)\//.test(subject)) return '';
      return `${stage}:   ${subject} ${status}${message ? `: ${message}` : ''}\n`;
    }
    case 'finished': {
      const d = event.deployment;
      const tail = d.status === 'failed' && d.error ? `: ${d.error.message}\n${stage}:   deployment log: ${d.log}` : '';
      return `${stage}: deployment #${d.number} ${d.status} in ${formatDuration(event.durationMs)}${tail}\n`;
    }
    case 'refused':
      return `${stage}: not applied: ${event.error.message}\n`;
    case 'skipped':
      return `${stage}: skipped: ${event.reason}\n`;
  }
}

/** The closing line of an apply run, naming failed and skipped stages. */
export function renderApplySummary(outcomes: StageOutcome[], verb = 'apply'): string {
  const by = (s: StageOutcome['status']) => outcomes.filter((o) => o.status === s);
  const names = (list: StageOutcome[]) => (list.length ? ` (${list.map((o) => stageKey(o.ref)).sort().join(', ')})` : '');
  const failed = by('failed');
  const skipped = by('skipped');
  return (
    `${verb}: ${by('succeeded').length} succeeded, ${by('unchanged').length} unchanged, ` +
    `${failed.length} failed${names(failed)}, ${skipped.length} skipped${names(skipped)}\n`
  );
}

/** `2 create, 1 update` (operations with a zero count left out). */
export function renderCounts(summary: Summary): string {
  const parts = (['create', 'update', 'replace', 'delete'] as const).filter((op) => summary[op] > 0).map((op) => `${summary[op]} ${op}`);
  return parts.length ? parts.join(', ') : 'no changes';
}

/** `850ms`, `4.2s`, `3m05s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
