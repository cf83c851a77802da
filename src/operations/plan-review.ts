import type { Deps } from '../deps.js';
import type { Issue } from '../errors.js';
import type { DesiredState, SourceFiles } from '../manifests/api.js';
import { loadDesired } from '../manifests/load.js';
import type { OrganizationModel } from '../model/stage-model.js';
import { attributeFiles, changedFiles, changedStageKeys } from '../reconciler/plan-compare.js';
import type { PlanSource } from '../reconciler/plan-document.js';
import type { StagePlan } from '../reconciler/stage-plan.js';
import type { SecretLookup } from '../state/secret-digests.js';
import { planStages, type EngineFactory } from './plan-stages.js';

/** What a pull request is planned from: its head, and the base it goes to. */
export interface PlanReviewRequest {
  head: SourceFiles;
  /** Without a base every selected stage is planned (a plain plan of `head`). */
  base?: SourceFiles;
  stateDir: string;
  /** `--stage` selectors; empty: every stage. */
  stages?: readonly string[];
  refresh?: boolean;
  secretsFor?: (organization: OrganizationModel) => SecretLookup;
  commitsAhead?: (commit: string) => Promise<number | null>;
  engineFor?: EngineFactory;
  /** How to show a manifest path in issues (the CLI: relative to the working directory). */
  displayFile?: (file: string) => string;
}

/** A pull request's plan, or the located problems of its manifests (nothing planned). */
export type PlanReview =
  | { ok: true; plans: StagePlan[]; source: PlanSource; showFiles: boolean }
  | { ok: false; issues: Issue[]; source: PlanSource };

/**
 * Plans a pull request (`setopsd comment`, `setopsd daemon --comment-prs`): the head's desired
 * state against what each engine recorded, listing with a base only the stages whose desired state
 * differs from the base (each change naming the files behind it). Invalid head manifests are a
 * result, not an error, so that the pull request gets a comment saying why; an invalid base (a pull
 * request that repairs broken manifests) differs everywhere, so every stage is shown.
 */
export async function planReview(deps: Deps, req: PlanReviewRequest, signal: AbortSignal): Promise<PlanReview> {
  const source: PlanSource = { ref: req.head.ref, commit: req.head.commit, ...(req.base?.commit ? { base: { ref: req.base.ref ?? req.base.commit, commit: req.base.commit } } : {}) };
  const loaded = loadDesired(req.head, { stages: req.base === undefined ? (req.stages ?? []) : [] });
  if (!loaded.ok) {
    const display = req.displayFile ?? ((f: string) => (req.head.dir ? `${req.head.dir}/${f}` : f));
    return { ok: false, issues: loaded.issues.map((i) => ({ ...i, file: display(i.file) })), source };
  }
  const desired = loaded.value;
  let plans = await planStages({
    desired,
    stateDir: req.stateDir,
    deps,
    signal,
    stages: req.stages ?? [],
    refresh: req.refresh === true,
    ...(req.secretsFor ? { secretsFor: req.secretsFor } : {}),
    ...(req.commitsAhead ? { commitsAhead: req.commitsAhead } : {}),
    ...(req.engineFor ? { engineFor: req.engineFor } : {}),
  });
  if (req.base === undefined) return { ok: true, plans, source, showFiles: false };
  const baseResult = loadDesired(req.base);
  const baseDesired: DesiredState = baseResult.ok ? baseResult.value : { stages: [], origins: {}, counts: desired.counts };
  const keys = new Set(changedStageKeys(baseDesired, desired));
  const files = changedFiles(req.base, req.head);
  plans = plans.filter((p) => keys.has(p.key)).map((p) => attributeFiles(p, files, baseDesired, desired));
  return { ok: true, plans, source, showFiles: true };
}
