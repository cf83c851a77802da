import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from '../errors.js';
import { sortKeys } from '../model/canonical.js';
import { stageKey, type StageRef } from '../model/stage-model.js';
import { writeFileAtomic } from './atomic.js';
import { PIN_FILE, stageDir } from './paths.js';

/**
 * An operator's explicit exception to the branch: the stage stays at deployment `deployment` (its
 * stored model `desiredHash`, made from `commit`) until `setopsd unpin`. While a pin exists, `apply`
 * and the daemon plan the stage but do not apply the branch. Stored as `<stageDir>/pin.json`;
 * unlike the status record it is not derived data, so a pin that cannot be read is an error.
 */
export interface StagePin {
  formatVersion: 1;
  /** `org/project/stage`. */
  stage: string;
  /** The deployment the stage is pinned at. */
  deployment: number;
  desiredHash: string | null;
  /** The commit that deployment's model came from (for a rollback: the commit rolled back to). */
  commit: string | null;
  /** `rollback` (set by `setopsd rollback`) or `pin` (`setopsd pin`). */
  reason: 'rollback' | 'pin';
  /** ISO time. */
  since: string;
}

export class StagePins {
  constructor(readonly stateDir: string) {}

  private file(ref: StageRef): string {
    return join(stageDir(this.stateDir, ref), PIN_FILE);
  }

  /** The pin of a stage; null when it is not pinned. */
  async read(ref: StageRef): Promise<StagePin | null> {
    const file = this.file(ref);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new EngineError(`stage ${stageKey(ref)}: cannot read ${file}: ${(err as Error).message}; check that the state directory is readable`, { code: 'E_STATE_UNREADABLE', cause: err });
    }
    try {
      const pin = JSON.parse(text) as StagePin;
      if (pin.formatVersion === 1 && Number.isInteger(pin.deployment)) return pin;
    } catch {
      // reported below
    }
    throw new EngineError(`stage ${stageKey(ref)}: ${file} is not a pin setopsd wrote; remove it with \`setopsd unpin ${stageKey(ref)}\``, { code: 'E_STATE_CORRUPT', data: { file } });
  }

  async write(pin: StagePin): Promise<void> {
    const [organization, project, stage] = pin.stage.split('/') as [string, string, string];
    await writeFileAtomic(this.file({ organization, project, stage }), JSON.stringify(sortKeys(pin), null, 2) + '\n');
  }

  /** Removes the pin; returns whether there was one. */
  async remove(ref: StageRef): Promise<boolean> {
    const file = this.file(ref);
    try {
      await readFile(file);
    } catch {
      return false;
    }
    await rm(file, { force: true });
    return true;
  }
}

/** "pinned at #N" with how far the branch moved on, for status, plans and the daemon. */
export function describePin(pin: StagePin, commitsAhead: number | null, waiting?: number): string {
  const what = pin.reason === 'rollback' ? `pinned at #${pin.deployment} (a rollback)` : `pinned at #${pin.deployment}`;
  const ahead = commitsAhead === null ? '' : commitsAhead === 0 ? ', the branch is at its commit' : `, the branch is ${commitsAhead} commit${commitsAhead === 1 ? '' : 's'} ahead`;
  const wait = waiting === undefined ? '' : waiting === 0 ? '; the branch changes nothing' : `; ${waiting} change${waiting === 1 ? ' waits' : 's wait'}`;
  return `${what}${ahead}${wait}; \`setopsd unpin ${pin.stage}\` lets the branch apply`;
}
