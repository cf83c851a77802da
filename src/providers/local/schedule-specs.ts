import { DEFAULT_SCHEDULE_TIMEOUT_S, type AppModel } from '../../model/stage-model.js';
import { toArgv } from './command.js';
import type { ScheduleSpec } from './schedules.js';

/** The supervisor's schedule specs of an app (sorted by name): argv by the app command's rules (a string runs with /bin/sh -c). */
export function scheduleSpecs(app: AppModel): ScheduleSpec[] {
  return Object.entries(app.schedules ?? {})
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, s]) => ({ name, cron: s.cron, ...(s.timezone ? { timezone: s.timezone } : {}), timeoutMs: (s.timeout ?? DEFAULT_SCHEDULE_TIMEOUT_S) * 1000, argv: toArgv(s.command) }));
}
