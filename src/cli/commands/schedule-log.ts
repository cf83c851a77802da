import { readFile } from 'node:fs/promises';
import type { CommandContext } from '../command.js';
import { UsageError } from '../../errors.js';
import { stageKey, type ScheduleModel, type StageRef } from '../../model/stage-model.js';
import { localPaths } from '../../providers/local/paths.js';
import { scheduleLogFile } from '../../providers/local/schedules.js';

/** `setopsd logs --app APP --schedule NAME`: the last lines of a schedule's runs (local engine). */
export async function printScheduleLog(ctx: CommandContext, stateDir: string, ref: StageRef, app: string, name: string, schedules: Record<string, ScheduleModel>, lines: number): Promise<number> {
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
  const all = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  ctx.deps.stdout.write(all.slice(-lines).join('\n') + '\n');
  return 0;
}
