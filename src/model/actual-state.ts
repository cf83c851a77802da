import type { Change } from './changeset.js';
import type { StageModel } from './stage-model.js';

/** What an engine recorded for a stage: the applied StageModel (null: nothing deployed) and a serial. */
export interface ActualState {
  model: StageModel | null;
  /**
   * Changes whenever the recorded state changes (a counter or a checkpoint hash). Saved plans
   * keep it to detect a stale plan. `null` when nothing was ever deployed.
   */
  serial: string | null;
  /** After `refresh`: what the engine found different from its records (resource-level), if anything. */
  drift?: Change[];
  /**
   * What the engine observes is not running as recorded (local engine: a stage supervisor, its
   * router or a service server that is down). Planned as changes after the model's own, so `plan`
   * shows them and `apply` repairs them even when the model is in sync.
   */
  repairs?: Change[];
  /**
   * Keyed digests (never values) of the secrets the applied model's apps use, by secret name,
   * recorded with it: a rotated value shows as a change although its `{secret}` reference did not.
   */
  secretDigests?: Record<string, string>;
  /**
   * Final snapshots the engine takes when a stateful service is deleted, by service name: the
   * snapshot identifier it recorded (AWS). Absent for engines that take none (local).
   */
  finalSnapshots?: Record<string, string>;
}
