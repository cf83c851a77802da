/**
 * `apply` of a stage: refuses a stack with pending operations, checks the stage's SSM
 * parameters exist (secrets-check.ts), then updates; when an app with `preDeploy` is new or
 * changed, the update runs in two phases (two-phase.ts). An update the ECS circuit breaker
 * rolled back is a failed deployment (apply-result.ts, rollout.ts).
 */
import { throwIfAborted } from '../../../errors.js';
import { refOf, type StageModel } from '../../../model/stage-model.js';
import type { ApplyIO, ApplyResult } from '../../engine.js';
import type { ProgramOptions } from '../program/context.js';
import { finishRuns, pendingOperationsError } from './apply-result.js';
import type { Translation } from './events/types.js';
import { runUpdate } from './stack-operations.js';
import type { EngineParts } from './parts.js';
import { preDeployApps } from './rollout.js';
import { deploymentMessage, logRun } from './run.js';
import { pinnedPhase } from './two-phase.js';
import { restartApps } from './force-deployment.js';

/** Converges the stage to `desired` (`Engine.apply`). */
export async function applyStage(parts: EngineParts, desired: StageModel, io: ApplyIO): Promise<ApplyResult> {
  const { stacks } = parts;
  const ref = refOf(desired);
  throwIfAborted(io.signal);
  const before = await stacks.deployment(ref, io.signal);
  const previous = stacks.actualOf(ref, before);
  if (before && before.pendingOperations.length > 0) {
    return { status: 'failed', applied: [], actual: previous, error: pendingOperationsError(stacks.subject(ref), stacks.loc(ref), before.pendingOperations) };
  }
  // ECS reads secrets only when a task starts: check them before anything changes.
  const secretsError = await parts.secrets.missing(desired, io.signal);
  if (secretsError) return { status: 'failed', applied: [], actual: previous, error: secretsError };
  const runs: Translation[] = [];
  const migrating = preDeployApps(desired, previous.model);
  if (migrating.length > 0) {
    const phase = await pinnedPhase(parts, desired, migrating, before, previous, io);
    if ('result' in phase) return phase.result;
    runs.push(...phase.runs);
  }
  const programOpts: ProgramOptions = previous.model ? { previousModel: previous.model } : {};
  // `apply --refresh`: the first update of the apply refreshes (the pinned phase's, when there is one).
  const up = await runUpdate(parts, desired, programOpts, io, deploymentMessage(io), io.refresh === true && runs.length === 0);
  if ('failed' in up) return runs.length > 0 ? finishRuns(parts, ref, runs, up.failed.error, previous) : { ...up.failed, actual: previous };
  logRun(io, ref, 'up', up.translation, up.error);
  const result = await finishRuns(parts, ref, [...runs, up.translation], up.error, previous, { rollout: { desired, previous: previous.model } });
  // `setopsd redeploy`: the same model, new tasks.
  return restartApps(parts, ref, io, result);
}
