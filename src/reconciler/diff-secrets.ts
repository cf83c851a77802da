import type { ActualState } from '../model/actual-state.js';
import type { Change } from '../model/changeset.js';
import { compareCodeUnits } from '../model/canonical.js';
import { isSecretRef, refOf, type StageModel } from '../model/stage-model.js';
import { setopsSecretEnv } from './setops-command.js';

/**
 * Env entries whose `{secret: NAME}` reference is unchanged but whose value changed: the digest
 * of the value now (`digests`, by secret name) differs from the one recorded with the applied
 * model. Pure. Unknown on either side (a secret that cannot be read now, state recorded before
 * digests existed): no change.
 */
export function secretValueChanges(desired: StageModel | null, actual: ActualState, digests: Record<string, string>): Change[] {
  const recorded = actual.secretDigests;
  if (desired === null || actual.model === null || recorded === undefined) return [];
  const ref = refOf(desired);
  const out: Change[] = [];
  for (const [app, model] of Object.entries(desired.apps).sort(([a], [b]) => compareCodeUnits(a, b))) {
    const before = actual.model.apps[app];
    if (before === undefined) continue;
    for (const [key, value] of Object.entries(model.env).sort(([a], [b]) => compareCodeUnits(a, b))) {
      const old = before.env[key];
      if (!isSecretRef(value) || !isSecretRef(old) || old.secret !== value.secret) continue;
      const now = digests[value.secret];
      const then = recorded[value.secret];
      if (now === undefined || then === undefined || now === then) continue;
      const shown = `(secret ${value.secret})`;
      out.push({ op: 'update', subject: `app/${app}`, path: `env.${key}`, before: shown, after: shown, dataLoss: false, reason: 'value changed', command: setopsSecretEnv(ref, app, key, value.secret) });
    }
  }
  return out;
}
