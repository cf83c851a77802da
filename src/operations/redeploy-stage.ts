import { UsageError } from '../errors.js';
import { stageKey, type StageRef } from '../model/stage-model.js';
import { Journal } from '../state/journal.js';
import { StateStore } from '../state/store.js';
import { currentDeployment, deployStored, type StageOpDeps, type StageOpRequest, type StageOpResult } from './stage-deployment.js';

/**
 * `setopsd redeploy STAGE [APP…]`: restarts apps of the model the stage runs without changing it
 * (new processes blue/green on the local engine, a forced new ECS deployment on AWS), recorded as a deployment with trigger
 * `redeploy`. A pinned stage stays pinned.
 */
export async function redeployStage(ad: StageOpDeps, ref: StageRef, apps: readonly string[], request: StageOpRequest, signal: AbortSignal): Promise<StageOpResult> {
  const recorded = await new StateStore(ad.stateDir).read(ref);
  const model = recorded.model;
  if (model === null) throw new UsageError(`stage ${stageKey(ref)} is not deployed; there is nothing to redeploy`);
  const known = Object.keys(model.apps).sort();
  const unknown = apps.filter((a) => !(a in model.apps));
  if (unknown.length > 0) throw new UsageError(`stage ${stageKey(ref)} has no app ${unknown.join(', ')} (apps: ${known.join(', ') || 'none'})`);
  const restart = apps.length > 0 ? [...apps].sort() : known.filter((a) => model.apps[a]!.scale > 0);
  if (restart.length === 0) throw new UsageError(`stage ${stageKey(ref)} runs no app (every app has scale 0); there is nothing to restart`);
  const current = currentDeployment(await new Journal(ad.stateDir, ref, () => ad.deps.clock.now()).list());
  return deployStored(
    ad,
    ref,
    {
      model,
      source: { commit: current?.commit ?? null, ref: current?.ref ?? null },
      trigger: 'redeploy',
      note: `redeploy: restarts ${restart.map((a) => `app/${a}`).join(', ')} with the model of ${current ? `deployment #${current.number}` : 'the recorded state'}; nothing else changes`,
      job: { restart, pin: 'ignore' },
    },
    request,
    signal,
  );
}
