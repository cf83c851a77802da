/**
 * The state directory's index of stages (`state.json`, the StateStore) kept in step with the
 * stacks, so every command that lists recorded stages sees AWS stages too: a stage removed from
 * the manifests is planned as a delete instead of leaving its AWS resources behind. Pulumi's
 * state stays the source of truth (`read`); the index never decides what is deployed.
 */
import { canonicalJson } from '../../../model/canonical.js';
import type { ActualState } from '../../../model/actual-state.js';
import { stageKey, type StageRef } from '../../../model/stage-model.js';
import { StateStore } from '../../../state/store.js';
import type { EngineContext } from '../../engine.js';

/**
 * Records `actual` (or, when `destroyed`, no stage) in the index when it differs. A state
 * without a model is left out unless destroyed; a failure to write is logged, never thrown.
 */
export async function indexStage(ctx: EngineContext, ref: StageRef, actual: ActualState, destroyed: boolean): Promise<void> {
  if (!destroyed && actual.model === null) return;
  try {
    const store = new StateStore(ctx.stateDir);
    const current = await store.read(ref);
    const model = destroyed ? null : actual.model;
    if (canonicalJson(current.model) !== canonicalJson(model)) await store.write(ref, model);
  } catch (err) {
    ctx.deps.log.warn({ stage: stageKey(ref), err: (err as Error).message }, 'could not update the stage index in the state directory');
  }
}
