/**
 * Running one stack operation (`preview`, `up`, `destroy`, `refresh`) with engine events: the
 * events become the run's translation (events/translate.ts) and the apply's progress, a failure
 * becomes a SetopsError (errors.ts).
 */
import { throwIfAborted, type SetopsError } from '../../../errors.js';
import { stageKey, type StageRef } from '../../../model/stage-model.js';
import type { ApplyIO } from '../../engine.js';
import { mapPulumiError } from './errors.js';
import { progressFor } from './events/progress.js';
import { translateEvents } from './events/translate.js';
import type { EngineEventLike, Translation } from './events/types.js';
import type { StackAccess, StackOperation } from './stack-access.js';
import type { OpenStack } from './workspace.js';

/** What one run gives: the translation of its events and, when it failed, the mapped error. */
export interface RunOutcome {
  translation: Translation;
  error?: SetopsError;
}

/** Runs one stack operation with events; `message` names an update or destroy in the stack's history. */
export async function runOperation(
  stacks: StackAccess,
  ref: StageRef,
  operation: StackOperation,
  opened: OpenStack,
  signal: AbortSignal | undefined,
  onProgress: ((e: EngineEventLike) => void) | undefined,
  message?: string,
  refresh = false,
): Promise<RunOutcome> {
  const events: EngineEventLike[] = [];
  const onEvent = (e: unknown): void => {
    events.push(e as EngineEventLike);
    onProgress?.(e as EngineEventLike);
  };
  const base = { onEvent, ...(signal ? { signal } : {}) };
  try {
    // The SDK only listens for an abort once the CLI runs: an abort during the setup
    // steps before must stop here.
    throwIfAborted(signal);
    // The call resolved: the CLI finished the operation. Its result is Pulumi's (the update's
    // history entry says `succeeded` too), whatever the step bookkeeping of the events says.
    let result = 'succeeded';
    if (operation === 'preview') await opened.stack.preview(base);
    else if (operation === 'up') result = (await opened.stack.up({ ...base, ...(message ? { message } : {}), ...(refresh ? { refresh: true } : {}) })).summary?.result ?? result;
    else if (operation === 'destroy') result = (await opened.stack.destroy({ ...base, ...(message ? { message } : {}) })).summary?.result ?? result;
    // Read-only: drift checks and `plan --refresh` never change the stack's state.
    else await opened.stack.previewRefresh(base);
    return { translation: translateEvents(events, { result }) };
  } catch (err) {
    const translation = translateEvents(events);
    return { translation, error: await mapPulumiError(err, stacks.errorContext(ref, operation, signal, translation)) };
  }
}

/** Engine events of an update or destroy as the apply's progress. */
export const progressTo =
  (io: ApplyIO) =>
  (e: EngineEventLike): void => {
    for (const p of progressFor(e)) io.progress(p);
  };

/** Logs a run's outcome and the engine's warnings (e.g. pending operations from an earlier run). */
export function logRun(io: ApplyIO, ref: StageRef, operation: string, t: Translation, error: SetopsError | undefined): void {
  for (const d of t.diagnostics) {
    if (d.severity === 'warning') io.log.warn({ stage: stageKey(ref), ...(d.subject ? { resource: d.subject } : {}) }, d.message);
  }
  io.log.info({ stage: stageKey(ref), summary: t.summary, outcome: error ? 'failed' : t.outcome }, `pulumi ${operation} finished`);
}

/** The message an update or destroy records in the stack's history: the journal entry it belongs to. */
export function deploymentMessage(io: ApplyIO): string {
  return `setopsd deployment #${io.deployment.number}${io.deployment.commit ? ` of ${io.deployment.commit.slice(0, 12)}` : ''} (${io.deployment.trigger})`;
}
