import type { StageRef } from './stage-model.js';

/** Planned operation. Present tense: what applying will do. */
export type Op = 'create' | 'update' | 'replace' | 'delete';

/**
 * One change of a stage's changeset.
 * `subject` is `stage`, `app/NAME`, `service/NAME`, `link/APP/SERVICE`, `domain/APP/NAME`,
 * `notification/NAME`, or for engine previews `resource/TYPE/NAME`.
 */
export interface Change {
  op: Op;
  subject: string;
  /** Field path inside the subject, dot-separated (`resources.memory`, `env.API_KEY`); absent for whole-subject changes. */
  path?: string;
  /** Before and after values, secrets masked as the string `(secret NAME)`. Absent on create/delete of whole subjects. */
  before?: unknown;
  after?: unknown;
  /** Applying this change destroys stored data. */
  dataLoss: boolean;
  /** The equivalent SetOps CLI command. */
  command: string;
  /** Why a replace is needed, e.g. `protocol cannot change in place`. */
  reason?: string;
}

/** The ordered changes that turn one stage's actual state into its desired state. Empty: in sync. */
export interface Changeset {
  ref: StageRef;
  changes: Change[];
}

export interface Summary {
  create: number;
  update: number;
  replace: number;
  delete: number;
}
