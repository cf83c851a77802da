import type { ActualState } from '../model/actual-state.js';
import type { OrganizationModel, StageModel, StageRef } from '../model/stage-model.js';
import { engineReadsSecrets } from '../providers/registry.js';
import type { Engine, SecretResolver } from '../providers/engine.js';
import type { Trigger } from '../state/journal.js';
import type { Planner, StageJob } from './apply-stage.js';
import { plan } from '../reconciler/plan.js';
import { verifyNotStale } from '../reconciler/plan-file.js';
import { checkPlanSafety } from '../reconciler/safety.js';

/**
 * Glue between the pure plan and the apply orchestration: the real planner, and stage jobs built
 * from reviewed plans (confirmation prompt or saved plan file).
 */

/** The real planner: `plan()` and `checkPlanSafety()`; every problem (data loss without the flag, protection) refuses. */
export const planner: Planner = {
  plan,
  checkSafety: (changeset, desired, actual, opts) => checkPlanSafety(changeset, desired, actual, opts).map((p) => p.message),
};

/** Where secrets of an organization's stages come from: the local engine's resolver, or deferred to the engine (AWS reads SSM itself). */
export type SecretsFor = (organization: OrganizationModel) => SecretResolver;

/** Inputs shared by every job of one apply run. */
export interface JobSettings {
  source: { commit: string | null; ref: string | null };
  trigger: Trigger;
  configRoot: string;
  engineOf: (organization: OrganizationModel) => Promise<Engine>;
  secretsFor: SecretsFor;
}

/**
 * One job per stage plan, run by the engine of its organization (desired, else recorded). A plan
 * a person reviewed (`reviewed`: a saved plan file, or changes confirmed on a terminal) is
 * re-checked under the stage lock: the stage's state serial must still be the one it was made
 * against (else StalePlanError, nothing applied). Any other job re-plans under the lock against
 * what is there then (after waiting for another apply, it applies what is left, or is in sync).
 */
export async function jobsFromPlans(
  plans: readonly { ref: StageRef; desired: StageModel | null; actualSerial: string | null; organization: OrganizationModel; reviewed: boolean }[],
  settings: JobSettings,
): Promise<StageJob[]> {
  const jobs: StageJob[] = [];
  for (const p of plans) {
    const engine = await settings.engineOf(p.organization);
    const stage = { ...p.ref, actualSerial: p.actualSerial };
    jobs.push({
      ref: p.ref,
      desired: p.desired,
      engine,
      ...(p.reviewed ? { verifyFresh: (actual: ActualState) => verifyNotStale(stage, actual) } : {}),
      source: settings.source,
      trigger: settings.trigger,
      configRoot: settings.configRoot,
      secrets: settings.secretsFor(p.organization),
      precheckSecrets: !engineReadsSecrets(p.organization),
    });
  }
  return jobs;
}
