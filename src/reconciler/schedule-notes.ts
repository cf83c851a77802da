import type { EngineName, StageModel } from '../model/stage-model.js';

/**
 * A note for the schedules of an AWS stage: EventBridge Scheduler starts an ECS task, and ECS has
 * no task timeout, so a run that hangs is not stopped after `timeout` as the local engine stops
 * it. PURE. Empty for other engines and for stages without schedules.
 */
export function scheduleTimeoutNotes(desired: StageModel | null, engine: EngineName): string[] {
  if (desired === null || engine !== 'pulumi') return [];
  const names = Object.entries(desired.apps)
    .flatMap(([app, a]) => Object.keys(a.schedules ?? {}).map((s) => `schedule/${app}/${s}`))
    .sort();
  if (names.length === 0) return [];
  return [
    `${names.join(', ')}: on AWS a scheduled run is not stopped after its timeout (ECS tasks have no time limit); make the command end by itself, e.g. with its own deadline`,
  ];
}
