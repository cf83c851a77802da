import type { StageModel } from '../../../model/stage-model.js';

/**
 * The StageModel a stack records as applied (`setopsdStageModel`) after an update in which some
 * apps did not move to their new version: apps the ECS circuit breaker rolled back, and apps
 * kept on their running task definition by a pinned first update (pre-deploy migrations not run
 * yet). Those apps are recorded as they were before the update (their previous model entry, or
 * absent when they had none); everything else as desired. So `read` keeps telling the truth —
 * those services run the previous version — and the next plan shows their change again.
 *
 * Pure: no IO; the input models are not mutated.
 */
export function recordedModel(desired: StageModel, previous: StageModel | null, heldBack: Iterable<string>): StageModel {
  const held = [...new Set(heldBack)].filter((app) => app in desired.apps).sort();
  if (held.length === 0) return desired;
  const apps = { ...desired.apps };
  for (const app of held) {
    const before = previous?.apps[app];
    if (before) apps[app] = before;
    else delete apps[app];
  }
  return { ...desired, apps };
}
