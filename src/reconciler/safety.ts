import type { StageModel, StageRef } from '../model/stage-model.js';
import { stageKey } from '../model/stage-model.js';
import type { Changeset } from '../model/changeset.js';

/**
 * A reason a changeset must not be applied as it is.
 * - `E_DATA_LOSS`: the change destroys data; apply needs `--allow-data-loss` (`refused: false`).
 * - `E_PROTECTED_STAGE`: data loss or stage destruction on a protected stage (`refused: true`).
 * - `E_DELETION_PROTECTION`: deleting/replacing a service with `deletionProtection` (`refused: true`).
 */
export interface SafetyProblem {
  code: 'E_DATA_LOSS' | 'E_PROTECTED_STAGE' | 'E_DELETION_PROTECTION';
  stage: StageRef;
  subject: string;
  /** True when no flag can override it: change the manifests (and apply) first. */
  refused: boolean;
  message: string;
}

/**
 * Data-loss and protection checks shared by `plan` (which shows them as warnings) and `apply`
 * (which refuses when any problem is returned). Pure.
 *
 * Protection is read from the ACTUAL model (what is deployed decides what may be destroyed),
 * and a stage also counts as protected when the desired model protects it, so protection cannot
 * be dropped and data destroyed in the same commit. With `allowDataLoss`, only refusals remain.
 */
export function checkPlanSafety(
  changeset: Changeset,
  desired: StageModel | null,
  actual: StageModel | null,
  opts: { allowDataLoss: boolean },
): SafetyProblem[] {
  const ref = changeset.ref;
  // The full key: two organizations may have the same project and stage names.
  const where = stageKey(ref);
  const stageProtected = actual?.stage.protected === true || desired?.stage.protected === true;
  const problems: SafetyProblem[] = [];
  for (const change of changeset.changes) {
    const destroysStage = change.subject === 'stage' && (change.op === 'delete' || change.op === 'replace');
    if (!change.dataLoss && !destroysStage) continue;
    const verb = change.op === 'replace' ? 'replacing' : 'deleting';
    if (stageProtected) {
      problems.push({
        code: 'E_PROTECTED_STAGE',
        stage: ref,
        subject: change.subject,
        refused: true,
        message: change.subject === 'stage'
          ? `stage ${stageKey(ref)} is protected: ${verb} it is refused; set protected: false on the stage and apply that first`
          : `${change.subject} in ${where}: ${verb} it destroys its data and the stage is protected; set protected: false on the stage and apply that first`,
      });
      continue;
    }
    if (change.subject.startsWith('service/')) {
      const name = change.subject.slice('service/'.length);
      const protectedService = actual?.services[name]?.deletionProtection === true || (change.op === 'replace' && desired?.services[name]?.deletionProtection === true);
      if (protectedService) {
        problems.push({
          code: 'E_DELETION_PROTECTION',
          stage: ref,
          subject: change.subject,
          refused: true,
          message: `${change.subject} in ${where}: deletion protection is on; ${verb} it is refused; set deletionProtection: false on the service and apply that first`,
        });
        continue;
      }
    }
    if (change.dataLoss && !opts.allowDataLoss) {
      problems.push({
        code: 'E_DATA_LOSS',
        stage: ref,
        subject: change.subject,
        refused: false,
        message:
          change.subject === 'stage'
            ? `stage ${stageKey(ref)}: ${verb} the stage destroys the data of its services; apply needs --allow-data-loss`
            : `${change.subject} in ${where}: ${verb} it destroys its data${change.reason ? ` (${change.reason})` : ''}; apply needs --allow-data-loss`,
      });
    }
  }
  return problems;
}
