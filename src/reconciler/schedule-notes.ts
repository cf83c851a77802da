import { DEFAULT_SCHEDULE_TIMEOUT_S, type EngineName, type StageModel } from '../model/stage-model.js';

/**
 * A note for the schedules of an AWS stage that set no `timeout` (PURE). On AWS a schedule with
 * `timeout` runs through a Step Functions state machine that stops the run after it; one without
 * starts the ECS task directly, and ECS tasks have no time limit — while the local engine stops
 * such a run after the default. The reader should know that the same manifests behave
 * differently there. Empty for other engines and when every schedule sets a timeout.
 */
export function scheduleTimeoutNotes(desired: StageModel | null, engine: EngineName): string[] {
  if (desired === null || engine !== 'pulumi') return [];
  const names = Object.entries(desired.apps)
    .flatMap(([app, a]) => Object.entries(a.schedules ?? {}).filter(([, s]) => s.timeout === undefined).map(([s]) => `schedule/${app}/${s}`))
    .sort();
  if (names.length === 0) return [];
  return [
    `${names.join(', ')}: no timeout, so on AWS a run is never stopped (ECS tasks have no time limit; the local engine stops it after ${DEFAULT_SCHEDULE_TIMEOUT_S} s); set timeout to have it stopped after that many seconds`,
  ];
}
