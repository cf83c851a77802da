import type { Deps } from '../deps.js';
import { PlanError, SetopsError, UsageError } from '../errors.js';
import { stageKey, type StageModel, type StageRef } from '../model/stage-model.js';
import type { SecretResolver } from '../providers/engine.js';
import { plan } from '../reconciler/plan.js';
import { checkPlanSafety } from '../reconciler/safety.js';
import { StateStore } from '../state/store.js';
import { Journal } from '../state/journal.js';
import { applyStage, type ApplyEvent, type Planner, type StageOutcome } from './apply-stage.js';
import type { EngineFactory } from './plan-stages.js';
import { engineFor } from '../providers/registry.js';

/** One `setopsd destroy STAGE`. */
export interface DestroyRequest {
  ref: StageRef;
  /** Also delete the data of the stage's services; without it databases, buckets and volumes are kept. */
  allowDataLoss: boolean;
  lockTimeoutMs: number;
  /** `--yes`; else `confirm` is asked; without either the destroy is refused (UsageError). */
  yes: boolean;
  confirm?: (recorded: StageModel, signal: AbortSignal) => Promise<boolean>;
  /** Shown before confirmation: what the destroy stops and which data it keeps or deletes. */
  onReview?: (recorded: StageModel) => void;
  onEvent?: (event: ApplyEvent) => void;
}

export type DestroyOutcome = { status: 'not-deployed' } | { status: 'declined' } | StageOutcome;

/**
 * Destroys a stage: refuses a protected stage, asks for confirmation, then runs a `destroy`
 * deployment under the stage lock (journaled like an apply). Data loss is governed by
 * `allowDataLoss` inside the engine (data is kept without it); only outright refusals
 * (protection) stop a destroy.
 */
export async function destroyStage(ad: { deps: Deps; stateDir: string; engineFactory?: EngineFactory }, request: DestroyRequest, signal: AbortSignal): Promise<DestroyOutcome> {
  const { deps, stateDir } = ad;
  const { ref } = request;
  const key = stageKey(ref);
  const recorded = (await new StateStore(stateDir).read(ref)).model;
  // Nothing recorded, but an apply was attempted (a first apply killed before it finished): its
  // model says what it may have started, so destroy still finds and stops it.
  const attempted = recorded === null ? await attemptedModel(stateDir, ref, deps) : null;
  const model = recorded ?? attempted;
  if (model === null) return { status: 'not-deployed' };
  if (model.stage.protected) {
    throw new PlanError(`stage ${key} is protected: destroy is refused; set protected: false on the stage and apply that first`, { code: 'E_PROTECTED_STAGE' });
  }
  request.onReview?.(model);
  if (!request.yes) {
    if (!request.confirm) throw new UsageError('destroy needs --yes when not run in a terminal');
    if (!(await request.confirm(model, signal))) return { status: 'declined' };
  }
  const engine = await (ad.engineFactory ?? engineFor)(model.organization, { stateDir, deps });
  return applyStage(
    { ref, desired: null, engine, source: { commit: null, ref: null }, trigger: 'cli', configRoot: deps.cwd, secrets: NO_SECRETS },
    { stateDir, deps, signal, planner: attempted === null ? DESTROY_PLANNER : { ...DESTROY_PLANNER, plan: (d, a) => plan(d, a ?? attempted), checkSafety: (c, d, a, o) => DESTROY_PLANNER.checkSafety(c, d, a ?? attempted, o) }, allowDataLoss: request.allowDataLoss, lockTimeoutMs: request.lockTimeoutMs, command: 'destroy', ...(request.onEvent ? { onEvent: request.onEvent } : {}) },
  );
}

/** The model of the newest apply in the stage's journal (none: null). */
async function attemptedModel(stateDir: string, ref: StageRef, deps: Deps): Promise<StageModel | null> {
  const journal = new Journal(stateDir, ref, () => deps.clock.now());
  const latest = await journal.latest();
  return latest !== null && latest.kind === 'apply' ? journal.model(latest) : null;
}

/** A destroy's safety: only refusals (protection) stop it; data loss is the engine's `allowDataLoss`. */
const DESTROY_PLANNER: Planner = {
  plan,
  checkSafety: (changeset, desired, actual, opts) => checkPlanSafety(changeset, desired, actual, opts).filter((p) => p.refused).map((p) => p.message),
};

const NO_SECRETS: SecretResolver = {
  get: async (name) => {
    throw new SetopsError(`secret "${name}" is not needed to destroy a stage`, { code: 'E_SECRET_MISSING' });
  },
};
