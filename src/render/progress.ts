import { stageKey } from '../model/stage-model.js';
import type { ApplyEvent, StageOutcome } from '../operations/apply-stage.js';
import type { Change, Summary } from '../model/changeset.js';

const PAST: Record<Change['op'], string> = { create: 'created', update: 'updated', replace: 'replaced', delete: 'deleted' };
const DOING: Record<Change['op'], string> = { create: 'creating', update: 'updating', replace: 'replacing', delete: 'deleting' };

/**
 * The progress of an apply run as a person reads it: a stateful printer, one per run. Compared
 * with `renderApplyEvent` it names what changes (`app/api env.GREETING updated`, from the
 * deployment's changeset), says a subject started once however many of its changes the engine
 * works on, says each change's outcome once, and prints a failure's message once (the closing line of a deployment does not
 * repeat a message a progress line already showed).
 */
export function applyProgressPrinter(): (event: ApplyEvent) => string {
  const changes = new Map<string, Map<string, Change[]>>();
  const started = new Map<string, Set<string>>();
  const finished = new Map<string, Set<string>>();
  const printed = new Map<string, Set<string>>();
  const once = <T>(map: Map<string, Set<T>>, stage: string) => {
    let set = map.get(stage);
    if (!set) map.set(stage, (set = new Set()));
    return set;
  };
  return (event) => {
    const stage = stageKey(event.ref);
    switch (event.type) {
      case 'started': {
        const bySubject = new Map<string, Change[]>();
        for (const c of event.deployment.changeset.changes) bySubject.set(c.subject, [...(bySubject.get(c.subject) ?? []), c]);
        changes.set(stage, bySubject);
        return renderApplyEvent(event);
      }
      case 'progress': {
        const { subject, status, message } = event.event;
        const planned = changes.get(stage)?.get(subject) ?? [];
        if (status === 'started') {
          const seen = once(started, stage);
          if (seen.has(subject) || !/^(app|service|resource)\//.test(subject)) return '';
          seen.add(subject);
          const what = planned.filter((c) => c.path).map((c) => c.path);
          const op = planned[0]?.op;
          if (op === undefined) return `${stage}:   ${subject} started\n`;
          return `${stage}:   ${subject} ${DOING[op]}${what.length > 0 ? ` ${what.join(', ')}` : ''}\n`;
        }
        if (status === 'succeeded' && planned.length > 0) {
          const done = once(finished, stage);
          if (done.has(subject)) return '';
          done.add(subject);
          return planned.map((c) => `${stage}:   ${subject}${c.path ? ` ${c.path}` : ''} ${PAST[c.op]}\n`).join('');
        }
        if (message && status === 'failed') {
          // One line per failure, however many of the subject's changes the engine reports it for
          // (only failures: many resources succeed with the same message, "created").
          const shown = once(printed, stage);
          if (shown.has(message)) return '';
          shown.add(message);
        }
        return `${stage}:   ${subject} ${status}${message ? `: ${message}` : ''}\n`;
      }
      case 'finished': {
        const d = event.deployment;
        // The error printed above (the engine may add a sentence of its own: shown, the rest not repeated).
        const above = d.status === 'failed' && d.error ? [...(printed.get(stage) ?? [])].find((m) => d.error!.message.startsWith(m)) : undefined;
        if (above !== undefined) {
          const more = d.error!.message.slice(above.length).replace(/^[;.,]?\s*/, '');
          return `${stage}: deployment #${d.number} failed in ${formatDuration(event.durationMs)} (${d.error!.code}, above)${more ? `: ${more}` : ''}\n${stage}:   deployment log: ${d.log}\n`;
        }
        return renderApplyEvent(event);
      }
      default:
        return renderApplyEvent(event);
    }
  };
}

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
