import type { ActualState } from '../model/actual-state.js';
import type { Changeset } from '../model/changeset.js';
import type { StageModel } from '../model/stage-model.js';

/**
 * The changeset with the repairs the engine observed (`actual.repairs`: something recorded is
 * not running) appended after the model's own changes. Pure. A stage being removed
 * (`desired` null) needs no repair: it is destroyed.
 */
export function withRepairs(changeset: Changeset, desired: StageModel | null, actual: ActualState): Changeset {
  const repairs = actual.repairs ?? [];
  if (desired === null || repairs.length === 0) return changeset;
  return { ...changeset, changes: [...changeset.changes, ...repairs] };
}
