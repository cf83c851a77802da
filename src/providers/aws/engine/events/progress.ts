/** Engine events → apply progress: one event per resource step, in the order steps started. */
import type { ProgressEvent } from '../../../engine.js';
import { resourceSubject, STACK_TYPE, stepOf } from './steps.js';
import type { EngineEventLike } from './types.js';

/** Present-tense and past-tense words for each step op. */
const OP_WORDS: Record<string, [string, string]> = {
  create: ['creating', 'created'],
  update: ['updating', 'updated'],
  delete: ['deleting', 'deleted'],
  replace: ['replacing', 'replaced'],
  'create-replacement': ['creating replacement', 'created replacement'],
  'delete-replaced': ['deleting replaced', 'deleted replaced'],
  'discard-replaced': ['discarding replaced', 'discarded replaced'],
  read: ['reading', 'read'],
  'read-replacement': ['reading replacement', 'read replacement'],
  refresh: ['refreshing', 'refreshed'],
  import: ['importing', 'imported'],
  'import-replacement': ['importing replacement', 'imported replacement'],
  discard: ['discarding', 'discarded'],
  'remove-pending-replace': ['removing pending replace', 'removed pending replace'],
};

/** Progress events for one engine event (none for `same` steps and the stack itself). */
export function progressFor(event: EngineEventLike): ProgressEvent[] {
  for (const [kind, status] of [
    ['resourcePreEvent', 'started'],
    ['resOutputsEvent', 'succeeded'],
    ['resOpFailedEvent', 'failed'],
  ] as const) {
    const meta = stepOf(event, kind);
    if (!meta) continue;
    if (meta.type === STACK_TYPE || meta.op === 'same') return [];
    const words = OP_WORDS[meta.op] ?? [meta.op, meta.op];
    const message = status === 'started' ? words[0] : status === 'succeeded' ? words[1] : `${words[0]} failed`;
    return [{ subject: resourceSubject(meta.type, meta.urn), status, message }];
  }
  return [];
}

/**
 * The progress of a run, event by event. Completions (outputs, failures) seen before their step
 * started (recordings may number a step's outputs event before its pre event) are held back and
 * reported right after the start; those whose start never comes go last.
 */
export class ProgressLog {
  private readonly events: ProgressEvent[] = [];
  private readonly early = new Map<string, ProgressEvent[]>();

  /** Adds the progress of `event`; `running(urn)` counts the resource's started, unfinished steps before it. */
  add(event: EngineEventLike, running: (urn: string) => number): void {
    const startedUrn = stepOf(event, 'resourcePreEvent')?.urn;
    const doneUrn = stepOf(event, 'resOutputsEvent')?.urn ?? stepOf(event, 'resOpFailedEvent')?.urn;
    const stepProgress = progressFor(event);
    if (doneUrn !== undefined && running(doneUrn) <= 0) {
      this.early.set(doneUrn, [...(this.early.get(doneUrn) ?? []), ...stepProgress]);
      return;
    }
    this.events.push(...stepProgress);
    const queued = startedUrn !== undefined ? this.early.get(startedUrn) : undefined;
    if (queued && queued.length > 0) this.events.push(queued.shift()!);
  }

  /** Every progress event so far, completions without a start last. */
  all(): ProgressEvent[] {
    return [...this.events, ...[...this.early.values()].flat()];
  }
}
