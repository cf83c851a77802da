import type { CommandContext } from '../command.js';
import { UsageError } from '../../errors.js';
import { stageKey, type OrganizationModel, type StageRef } from '../../model/stage-model.js';
import { localPaths } from '../../providers/local/paths.js';
import { writeSupervisorLog } from '../../providers/local/supervisor-log.js';

/** `setopsd logs --supervisor`: the stage supervisor's log, one human line per event (local engine). */
export async function printSupervisorLog(ctx: CommandContext, stateDir: string, ref: StageRef, organization: OrganizationModel, o: { lines: number; since?: number; follow: boolean }): Promise<number> {
  if (organization.provider !== 'local') {
    throw new UsageError(`stage ${stageKey(ref)} runs on ${organization.provider}: it has no stage supervisor (that is the local engine's); see its apps' logs with --app APP`);
  }
  const file = localPaths(stateDir, ref).supervisorLog;
  const found = await writeSupervisorLog(file, { ...o, signal: ctx.signal, write: (s) => ctx.deps.stdout.write(s) }, ctx.deps);
  if (!found) ctx.deps.stdout.write(`stage ${stageKey(ref)} has no supervisor log yet (${file}); setopsd apply starts the supervisor\n`);
  return 0;
}
