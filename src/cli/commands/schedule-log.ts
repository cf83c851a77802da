import { readFile } from 'node:fs/promises';
import type { CommandContext } from '../command.js';
import { UsageError } from '../../errors.js';
import { stageKey, type ScheduleModel, type StageRef } from '../../model/stage-model.js';
import { localPaths } from '../../providers/local/paths.js';
import { scheduleLogFile } from '../../providers/local/schedules.js';

/**
 * The lines of a schedule's log written at `since` or later: each `TIME [setopsd] …` line dates
 * itself and the run output after it. Pure.
 */
export function scheduleLinesSince(lines: readonly string[], since: number): string[] {
  let time = Number.NEGATIVE_INFINITY;
  return lines.filter((line) => {
    const stamp = /^(\S+) \[setopsd\] /.exec(line)?.[1];
    const at = stamp === undefined ? Number.NaN : Date.parse(stamp);
    if (!Number.isNaN(at)) time = at;
    return time >= since;
  });
}

/** `setopsd logs --app APP --schedule NAME`: the last lines (written at `since` or later) of a schedule's runs (local engine). */
export async function printScheduleLog(ctx: CommandContext, stateDir: string, ref: StageRef, app: string, name: string, schedules: Record<string, ScheduleModel>, lines: number, since?: number): Promise<number> {
  if (!(name in schedules)) {
    const known = Object.keys(schedules).sort();
    throw new UsageError(`app/${app} in ${stageKey(ref)} has no schedule ${name}; ${known.length ? `its schedules: ${known.join(', ')}` : 'it has none'}`);
  }
  const file = scheduleLogFile(localPaths(stateDir, ref), app, name);
  const text = await readFile(file, 'utf8').catch(() => '');
  if (text === '') {
    ctx.deps.stdout.write(`schedule ${name} of app/${app} in ${stageKey(ref)} has not run yet\n`);
    return 0;
  }
  const every = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  const all = since === undefined ? every : scheduleLinesSince(every, since);
  const shown = lines <= 0 ? [] : all.slice(-lines);
  if (shown.length > 0) ctx.deps.stdout.write(shown.join('\n') + '\n');
  return 0;
}
