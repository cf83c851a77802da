import type { StageModel } from '../model/stage-model.js';
import { refOf } from '../model/stage-model.js';
import { PlanError } from '../errors.js';
import type { Change, Changeset } from '../model/changeset.js';
import { diffApps } from './diff-apps.js';
import { diffServices, deleteService } from './diff-services.js';
import { createStage, deleteStage, diffNotifications, diffStageSettings, stageReplace } from './diff-stage.js';
import { deleteApp } from './diff-apps.js';
import { orderChanges } from './order.js';

/**
 * The changeset that turns a stage's actual state into its desired state. Pure: no IO, never
 * mutates its inputs, output ordered so applying it in order is valid (see `order.ts`).
 *
 * - `desired` null: the stage was removed from the manifests → its apps and services are
 *   deleted (stateful services with data loss) and then the stage.
 * - `actual` null: nothing deployed → stage create and everything in it.
 * - Throws PlanError `E_VERSION_DOWNGRADE` for a service major-version downgrade.
 */
export function plan(desired: StageModel | null, actual: StageModel | null): Changeset {
  const model = desired ?? actual;
  if (model === null) throw new PlanError('plan needs a desired or an actual stage model', { code: 'E_PLAN_EMPTY' });
  const ref = refOf(model);
  const changes: Change[] = [];
  if (desired === null) {
    const a = actual!;
    for (const name of Object.keys(a.apps).sort()) changes.push(deleteApp(ref, name));
    for (const name of Object.keys(a.services).sort()) changes.push(deleteService(ref, name, a.services[name]!));
    changes.push(deleteStage(ref, a));
  } else if (actual === null) {
    changes.push(createStage(ref), ...contents(desired, null));
  } else {
    const replace = stageReplace(ref, desired, actual);
    if (replace) {
      // Destroyed and created anew: everything desired is created in the new stage.
      changes.push(replace, ...contents(desired, null));
    } else {
      changes.push(...diffStageSettings(ref, desired, actual), ...contents(desired, actual));
    }
  }
  return { ref, changes: orderChanges(changes) };
}

function contents(desired: StageModel, actual: StageModel | null): Change[] {
  const ref = refOf(desired);
  return [
    ...diffNotifications(ref, desired.stage.notifications, actual?.stage.notifications ?? {}),
    ...diffServices(ref, desired.services, actual?.services ?? {}),
    ...diffApps(ref, desired.apps, actual?.apps ?? {}),
  ];
}
