/**
 * The `ApplyResult` of an update or destroy, built from its runs and the state recorded after
 * them: what was applied, Pulumi's resource counts, the error (pending operations an
 * interrupted run left, a circuit-breaker rollback Pulumi reported as a success), and the
 * stage index brought in step.
 */
import { EngineError, type SetopsError } from '../../../errors.js';
import type { ActualState } from '../../../model/actual-state.js';
import type { Change } from '../../../model/changeset.js';
import type { StageRef } from '../../../model/stage-model.js';
import type { ApplyResult } from '../../engine.js';
import type { StackLocation } from './backend.js';
import type { DeploymentInfo, PendingOperation } from './checkpoint.js';
import type { Translation } from './events/types.js';
import { stackCommand } from './locks.js';
import type { EngineParts } from './parts.js';
import { rolledBackOutcome, type RolloutModels } from './rollout.js';
import { indexStage } from './stage-index.js';

/** Pending-operation kinds (as Pulumi records them) of the step ops an interrupted run left open. */
const STEP_KIND: Record<string, string> = {
  create: 'creating',
  'create-replacement': 'creating',
  update: 'updating',
  delete: 'deleting',
  'delete-replaced': 'deleting',
  import: 'importing',
  read: 'reading',
};

/** The message and data of a stack with pending operations, with the commands that recover it. */
export function pendingOperationsError(subject: string, loc: StackLocation, pending: readonly PendingOperation[]): EngineError {
  const base = stackCommand(loc, 'refresh');
  const creates = pending.filter((p) => p.type === 'creating');
  const list = pending.map((p) => `${p.urn} (${p.type})`).join(', ');
  const steps = [
    `check these resources in the AWS console;`,
    creates.length > 0
      ? `for creates that did not happen run \`${base} --clear-pending-creates\`, for creates that did run \`${base} --import-pending-creates '${creates[0]!.urn}' --import-pending-creates <its AWS id>\` (one URN/id pair per resource);`
      : '',
    pending.length > creates.length ? `interrupted updates and deletes clear with \`${base}\`;` : '',
    'then run setopsd apply again',
  ].filter(Boolean);
  return new EngineError(
    `${subject}: an interrupted Pulumi run left ${pending.length} pending operation(s): ${list}. ${steps.join(' ')}`,
    {
      code: 'E_PULUMI_PENDING_OPERATIONS',
      data: { pending: pending.map((p) => ({ ...p })), refresh: base },
    },
  );
}

/**
 * Pulumi's resource counts (`summaryEvent.resourceChanges`) as `resources.<op>` keys: the journal
 * merges them into the deployment summary, whose plain `create`/`update`/… keys count the
 * setopsd changeset.
 */
export function resourceSummary(t: Translation): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [op, n] of Object.entries(t.summary)) out[`resources.${op}`] = n;
  return out;
}

/** How the runs of an apply or destroy end. */
export interface FinishOptions {
  /** The runs destroyed the stage: a success removes it from the stage index. */
  destroying?: boolean;
  /** The runs rolled out `desired`: apps the circuit breaker rolled back fail the apply. */
  rollout?: RolloutModels;
}

/**
 * The result of `runs` (in order; the last decides whether the run was interrupted) ending with
 * `error`. The state is read again after them; when it cannot be read the result keeps
 * `fallback`, the state read before.
 */
export async function finishRuns(
  parts: EngineParts,
  ref: StageRef,
  runs: readonly Translation[],
  error: SetopsError | undefined,
  fallback: ActualState,
  opts: FinishOptions = {},
): Promise<ApplyResult> {
  // undefined: the state after the run could not be read.
  const recorded = await parts.stacks.deployment(ref).catch(() => undefined);
  let err = interruptedError(parts, ref, runs[runs.length - 1]!, recorded, error);
  const { actual, outputs } = recordedState(parts, ref, recorded, fallback);
  let indexed = actual;
  if (!err && opts.rollout) {
    // Pulumi reports an update the ECS circuit breaker rolled back as a success.
    const rolledBack = rolledBackOutcome(ref, opts.rollout, actual, outputs);
    if (rolledBack) {
      err = rolledBack.error;
      indexed = rolledBack.indexed;
    }
  }
  const result: ApplyResult = { status: err ? 'failed' : 'succeeded', applied: appliedChanges(runs), actual, summary: summedResources(runs) };
  if (err) result.error = err;
  await indexStage(parts.ctx, ref, indexed, opts.destroying === true && !err);
  return result;
}

/** `error`, or the pending-operations error when the last run was interrupted mid-step (and not canceled). */
function interruptedError(
  parts: EngineParts,
  ref: StageRef,
  last: Translation,
  recorded: DeploymentInfo | null | undefined,
  error: SetopsError | undefined,
): SetopsError | undefined {
  if (last.outcome !== 'interrupted' || (error && error.code === 'E_CANCELED')) return error;
  // The pending operations are the ones Pulumi recorded in the checkpoint; the steps that never
  // finished in the events only stand in when there is no checkpoint to read.
  const pending = recorded
    ? recorded.pendingOperations
    : last.pendingSteps.map((p) => ({ urn: p.urn, type: STEP_KIND[p.op] ?? p.op }));
  if (pending.length === 0) return error;
  return pendingOperationsError(parts.stacks.subject(ref), parts.stacks.loc(ref), pending);
}

/** The state and outputs recorded after the runs; `fallback` and no outputs when they cannot be read. */
function recordedState(
  parts: EngineParts,
  ref: StageRef,
  recorded: DeploymentInfo | null | undefined,
  fallback: ActualState,
): { actual: ActualState; outputs: Record<string, unknown> | null } {
  let actual = fallback;
  let outputs: Record<string, unknown> | null = null;
  if (recorded !== undefined) {
    try {
      outputs = recorded?.outputs ?? null;
      actual = parts.stacks.actualOf(ref, recorded);
    } catch {
      // Keep the state read before the run.
    }
  }
  return { actual, outputs };
}

/** The changes of every run whose steps completed. */
function appliedChanges(runs: readonly Translation[]): Change[] {
  return runs.flatMap((r) => r.changes.filter((c) => r.completed.includes(c.subject)));
}

/** The resource counts of all runs, summed (`resources.<op>`). */
function summedResources(runs: readonly Translation[]): Record<string, number> {
  const summary: Record<string, number> = {};
  for (const r of runs) for (const [k, n] of Object.entries(resourceSummary(r))) summary[k] = (summary[k] ?? 0) + n;
  return summary;
}
