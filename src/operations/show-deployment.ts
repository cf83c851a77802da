import { readFile } from 'node:fs/promises';
import type { Deps } from '../deps.js';
import { UsageError } from '../errors.js';
import { stageKey, type StageModel, type StageRef } from '../model/stage-model.js';
import { Journal, type Deployment } from '../state/journal.js';

/** How many lines of the deployment log `show` prints. */
export const LOG_TAIL_LINES = 20;

/**
 * One deployment of a stage, the model it applied (null for a destroy or an entry older than
 * stored models) and the last lines of its deployment log (empty when the log is gone).
 */
export async function showDeployment(
  { deps, stateDir }: { deps: Deps; stateDir: string },
  ref: StageRef,
  number?: number,
): Promise<{ deployment: Deployment; model: StageModel | null; logTail: string[] }> {
  const journal = new Journal(stateDir, ref, () => deps.clock.now());
  const latest = await journal.latest();
  if (latest === null) throw new UsageError(`stage ${stageKey(ref)} has no deployments yet`);
  if (number !== undefined && (number < 1 || number > latest.number)) {
    throw new UsageError(`stage ${stageKey(ref)} has no deployment #${number}; it has #1 to #${latest.number} (setopsd history ${stageKey(ref)})`);
  }
  const deployment = number === undefined ? latest : await journal.get(number);
  const log = await readFile(deployment.log, 'utf8').catch(() => '');
  const logTail = log.split('\n').filter((l) => l !== '').slice(-LOG_TAIL_LINES);
  return { deployment, model: await journal.model(deployment), logTail };
}
