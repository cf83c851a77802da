/**
 * The stack operations of the `Engine` interface besides `apply`: preview, destroy and refresh
 * of a stage, and one update (`pulumi up`) of its program, which `apply` runs once or twice.
 */
import { throwIfAborted } from '../../../errors.js';
import type { ActualState } from '../../../model/actual-state.js';
import { refOf, stageKey, type StageModel, type StageRef } from '../../../model/stage-model.js';
import type { ApplyIO, ApplyResult, ResourcePlan } from '../../engine.js';
import type { ProgramOptions } from '../program/context.js';
import { finishRuns } from './apply-result.js';
import { isStackNotFound, mapPulumiError } from './errors.js';
import { noopProgram, stageProgramFor } from './inline-program.js';
import type { EngineParts } from './parts.js';
import { deploymentMessage, logRun, progressTo, runOperation, type RunOutcome } from './run.js';
import { indexStage } from './stage-index.js';
import type { OpenStack } from './workspace.js';

/**
 * What every run of the stage's program gets besides `extra`: the engine clock's time and the
 * final snapshot names the stack records (so a database keeps its first one; see
 * `ProgramOptions.recordedFinalSnapshots`). A state that cannot be read records none here: the
 * run itself reports it.
 */
async function runOptions(parts: EngineParts, ref: StageRef, signal: AbortSignal | undefined, extra: ProgramOptions = {}): Promise<ProgramOptions> {
  const recorded = await parts.stacks.deployment(ref, signal).catch(() => null);
  const snapshots = recorded?.finalSnapshots ?? {};
  return { now: parts.ctx.deps.clock.now(), ...(Object.keys(snapshots).length > 0 ? { recordedFinalSnapshots: snapshots } : {}), ...extra };
}

/** `pulumi preview` of `desired`: the resource-level plan lines. Throws the mapped error. */
export async function previewStage(parts: EngineParts, desired: StageModel, signal?: AbortSignal): Promise<ResourcePlan> {
  const { stacks } = parts;
  const ref = refOf(desired);
  throwIfAborted(signal);
  const program = await stageProgramFor(parts.opts.program, desired, await runOptions(parts, ref, signal));
  let opened: OpenStack;
  // Pulumi previews a stack only: a stage without one gets a stack for the preview, removed
  // right after, so a plan never leaves a stack behind (`stack rm` refuses one with resources).
  let temporary = false;
  try {
    try {
      opened = await stacks.open(ref, 'preview', program, false);
    } catch (err) {
      if (!isStackNotFound(err)) throw err;
      opened = await stacks.open(ref, 'preview', program, true);
      temporary = true;
    }
  } catch (err) {
    throw await mapPulumiError(err, stacks.errorContext(ref, 'preview', signal));
  }
  try {
    const { translation, error } = await runOperation(stacks, ref, 'preview', opened, signal, undefined);
    if (error) throw error;
    return { changes: translation.changes };
  } finally {
    if (temporary) {
      await opened.stack.workspace.removeStack(stacks.loc(ref).stack).catch((err: unknown) => {
        parts.ctx.deps.log.warn({ stage: stageKey(ref), err: String((err as Error)?.message ?? err).split('\n')[0] }, 'the stack created for a preview could not be removed');
      });
    }
  }
}

/** One `pulumi up` of the stage's program; `failed` when the stack could not even be opened. */
export async function runUpdate(
  parts: EngineParts,
  desired: StageModel,
  programOpts: ProgramOptions,
  io: ApplyIO,
  message: string,
  refresh = io.refresh === true,
): Promise<RunOutcome | { failed: Omit<ApplyResult, 'actual'> }> {
  const { stacks } = parts;
  const ref = refOf(desired);
  let opened: OpenStack;
  try {
    opened = await stacks.open(ref, 'up', await stageProgramFor(parts.opts.program, desired, await runOptions(parts, ref, io.signal, programOpts)), true);
  } catch (err) {
    const error = await mapPulumiError(err, stacks.errorContext(ref, 'up', io.signal));
    return { failed: { status: 'failed', applied: [], error } };
  }
  return runOperation(stacks, ref, 'up', opened, io.signal, progressTo(io), message, refresh);
}

/** `pulumi destroy` of the stage; a stage without a stack is destroyed already. */
export async function destroyStage(parts: EngineParts, ref: StageRef, io: ApplyIO): Promise<ApplyResult> {
  const { stacks } = parts;
  throwIfAborted(io.signal);
  const before = await stacks.read(ref, io.signal);
  let opened: OpenStack;
  try {
    opened = await stacks.open(ref, 'destroy', noopProgram, false);
  } catch (err) {
    if (isStackNotFound(err)) {
      await indexStage(parts.ctx, ref, { model: null, serial: null }, true);
      return { status: 'succeeded', applied: [], actual: { model: null, serial: null } };
    }
    const error = await mapPulumiError(err, stacks.errorContext(ref, 'destroy', io.signal));
    return { status: 'failed', applied: [], actual: before, error };
  }
  const { translation, error } = await runOperation(stacks, ref, 'destroy', opened, io.signal, progressTo(io), deploymentMessage(io));
  logRun(io, ref, 'destroy', translation, error);
  return finishRuns(parts, ref, [translation], error, before, { destroying: true });
}

/** `pulumi refresh` of the stage: the state read again, with the drift it found (logged as a warning). */
export async function refreshStage(parts: EngineParts, ref: StageRef, signal?: AbortSignal): Promise<ActualState> {
  const { stacks } = parts;
  throwIfAborted(signal);
  let opened: OpenStack;
  try {
    opened = await stacks.open(ref, 'refresh', noopProgram, false);
  } catch (err) {
    if (isStackNotFound(err)) return { model: null, serial: null };
    throw await mapPulumiError(err, stacks.errorContext(ref, 'refresh', signal));
  }
  const { translation, error } = await runOperation(stacks, ref, 'refresh', opened, signal, undefined);
  if (error) throw error;
  if (translation.changes.length > 0) {
    parts.ctx.deps.log.warn({ stage: stageKey(ref), drift: translation.changes.map((c) => `${c.op} ${c.subject}${c.reason ? ` (${c.reason})` : ''}`) }, 'pulumi refresh found drift');
  }
  return { ...(await stacks.read(ref, signal)), drift: translation.changes };
}
