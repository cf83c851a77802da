/**
 * The first phase of an apply in which an app with `preDeploy` is new or changed: an update
 * that registers the new task definitions with every running service pinned to its revision
 * (new apps held at 0 tasks), then the pre-deploy tasks (predeploy.ts). The second phase is the
 * ordinary update that rolls out (apply.ts). A failure leaves the previous version serving.
 */
import type { ActualState } from '../../../model/actual-state.js';
import { refOf, type StageModel } from '../../../model/stage-model.js';
import type { ApplyIO, ApplyResult } from '../../engine.js';
import type { ProgramOptions } from '../program/context.js';
import { finishRuns } from './apply-result.js';
import type { DeploymentInfo } from './checkpoint.js';
import type { Translation } from './events/types.js';
import { runUpdate } from './stack-operations.js';
import type { EngineParts } from './parts.js';
import { heldFor, pinsFor } from './rollout.js';
import { deploymentMessage, logRun } from './run.js';

/**
 * Where an apply stands after the first phase: the pinned update's translation when the
 * pre-deploy tasks succeeded (roll out next), else the apply's result.
 */
export type PinnedPhase = { runs: Translation[] } | { result: ApplyResult };

/**
 * The pinned update and the pre-deploy tasks of `migrating` (apps of `desired` whose
 * `preDeploy` must run). `before` is the deployment recorded before the apply, `previous` its state.
 */
export async function pinnedPhase(
  parts: EngineParts,
  desired: StageModel,
  migrating: readonly string[],
  before: DeploymentInfo | null,
  previous: ActualState,
  io: ApplyIO,
): Promise<PinnedPhase> {
  const ref = refOf(desired);
  const programOpts: ProgramOptions = previous.model ? { previousModel: previous.model } : {};
  const pinnedTaskDefinitions = pinsFor(desired, before?.outputs);
  const heldApps = heldFor(desired, previous.model, pinnedTaskDefinitions);
  const pinned: ProgramOptions = { ...programOpts, pinnedTaskDefinitions, ...(heldApps.length > 0 ? { heldApps } : {}) };
  const first = await runUpdate(parts, desired, pinned, io, `${deploymentMessage(io)}: new task definitions, services held for pre-deploy`);
  if ('failed' in first) return { result: { ...first.failed, actual: previous } };
  logRun(io, ref, 'up', first.translation, first.error);
  if (first.error) return { result: await finishRuns(parts, ref, [first.translation], first.error, previous) };
  const runs = [first.translation];
  const failed = await parts.preDeploy.run(ref, migrating, io);
  if (failed) return { result: await finishRuns(parts, ref, runs, failed, previous) };
  return { runs };
}
