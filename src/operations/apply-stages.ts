import type { Deps } from '../deps.js';
import { UsageError } from '../errors.js';
import { compareCodeUnits } from '../model/canonical.js';
import { stageKey, type OrganizationModel } from '../model/stage-model.js';
import type { DesiredState } from '../manifests/api.js';
import type { Engine } from '../providers/engine.js';
import { providerOf, secretsFor } from '../providers/registry.js';
import type { Notifier } from '../providers/notify/notifier.js';
import { planStageRef, type PlanFile } from '../reconciler/plan-file.js';
import { planStage, selectStages, type StagePlan } from '../reconciler/stage-plan.js';
import type { ApplyEvent, StageOutcome } from './apply-stage.js';
import { jobsFromPlans, planner } from './jobs.js';
import { cachedEngines, planStages, type EngineFactory } from './plan-stages.js';
import { runStageJobs } from './run-stage-jobs.js';
import { refuseDeniedPolicies } from './policy-gate.js';
import { commitsAhead } from '../manifests/commits-ahead.js';
import { StagePins, describePin } from '../state/pin.js';

/** A stage about to apply: its plan for display and what the apply re-checks under the lock. */
export interface ReviewedStage {
  plan: StagePlan;
  /** Whether the reviewed changeset has changes (plan file: as saved, even if the stage moved on since). */
  hasChanges: boolean;
  /** The serial the reviewer saw (plan file: the one saved in it); a different one under the lock is a stale plan. */
  actualSerial: string | null;
  /** The organization whose engine runs the stage: the desired one, else the recorded one. */
  organization: OrganizationModel;
}

/** What to apply: the desired state of a source, or a saved plan (`setopsd plan --out FILE`). */
export type ApplySource =
  | { kind: 'desired'; desired: DesiredState; commit: string | null; ref: string | null; configRoot: string }
  | { kind: 'plan-file'; file: PlanFile; configRoot: string };

/**
 * How the person running the apply approves it:
 * - `yes`: `--yes`, every stage is approved, also those with `approval: manual`;
 * - else `confirm` (a terminal) is asked once for every changed stage;
 * - else a plan file counts as reviewed for stages with automatic approval; manual ones are skipped;
 * - else the apply is refused (UsageError): nothing applies unreviewed.
 */
export interface Approval {
  yes: boolean;
  confirm?: (stages: readonly ReviewedStage[], signal: AbortSignal) => Promise<boolean>;
}

/** One `setopsd apply` (and later the daemon's approved applies). */
export interface ApplyRequest {
  source: ApplySource;
  /** `--stage` selectors; empty: every stage. */
  stages: readonly string[];
  approval: Approval;
  allowDataLoss: boolean;
  lockTimeoutMs: number;
  /** Refresh each stage's state from the real world before its update (`apply --refresh`). */
  refresh?: boolean;
  /** Independent stages applied at once. */
  parallel: number;
  /** `--secrets FILE`, absolute. */
  secretsFile?: string;
  /** Shown before approval is asked: the reviewed plans. */
  onReview?: (stages: readonly ReviewedStage[]) => void;
  onEvent?: (event: ApplyEvent) => void;
}

/** What `applyStages` needs from the outside. */
export interface ApplyDeps {
  deps: Deps;
  stateDir: string;
  engineFactory?: EngineFactory;
  /** Delivers deployment notices to the stages' `notifications` (the caller drains it before exiting). */
  notifier?: Notifier;
}

/** The result: the reviewed stages, and an outcome per changed stage (sorted by key) unless the person declined. */
export type ApplyOutcome = { reviewed: ReviewedStage[]; declined: true } | { reviewed: ReviewedStage[]; declined: false; outcomes: StageOutcome[] };

/**
 * Reviews, approves and applies stages: plans every selected stage (or re-reads a saved plan's
 * stages), hands the plans to `onReview`, gets approval by the rules of `Approval`, skips stages
 * with `approval: manual` that were not explicitly approved, and applies the rest stage by stage
 * (`after:` order, up to `parallel` at once), each under its lock with a stale check against the
 * reviewed serial. Secrets come from the engine registry's sources.
 */
export async function applyStages(ad: ApplyDeps, request: ApplyRequest, signal: AbortSignal): Promise<ApplyOutcome> {
  const { deps, stateDir } = ad;
  if (request.parallel < 1) throw new UsageError('--parallel must be at least 1');
  const engineOf = cachedEngines(stateDir, deps, ad.engineFactory);
  const { source } = request;
  const reviewed =
    source.kind === 'plan-file'
      ? await reviewPlanFile(source.file, request.stages, engineOf, signal)
      : (await planStages({ desired: source.desired, stateDir, deps, signal, stages: request.stages, engineFor: (organization) => engineOf(organization), secretsFor: (organization) => secretsFor(organization, { ...(request.secretsFile ? { secretsFile: request.secretsFile } : {}), configRoot: source.configRoot, env: deps.env }), commitsAhead: (commit) => commitsAhead(source.configRoot, commit, source.commit ?? 'HEAD') })).map((p) => ({
          plan: p,
          hasChanges: p.changeset.changes.length > 0,
          actualSerial: p.actual.serial,
          organization: (p.desired ?? p.actual.model)!.organization,
        }));
  request.onReview?.(reviewed);
  // A pinned stage is planned, never applied from the branch: it is skipped before anyone is asked.
  const pins = new StagePins(stateDir);
  const pinned: StageOutcome[] = [];
  const changed: ReviewedStage[] = [];
  for (const r of reviewed.filter((x) => x.hasChanges)) {
    const pin = await pins.read(r.plan.ref);
    if (pin === null) changed.push(r);
    else {
      const reason = describePin(pin, null);
      request.onEvent?.({ type: 'skipped', ref: r.plan.ref, reason });
      pinned.push({ ref: r.plan.ref, status: 'skipped', reason, pinned: true });
    }
  }
  if (changed.length === 0) return { reviewed, declined: false, outcomes: pinned };
  refuseDeniedPolicies(changed.map((r) => r.plan));

  const approved = await approve(request.approval, changed, source.kind === 'plan-file', signal);
  if (approved === 'declined') return { reviewed, declined: true };

  const outcomes: StageOutcome[] = [...pinned];
  const toApply: ReviewedStage[] = [];
  for (const r of changed) {
    if (approved !== 'auto-only' || r.plan.desired?.stage.approval !== 'manual') toApply.push(r);
    else {
      const reason = 'approval: manual; confirm on a terminal or pass --yes';
      request.onEvent?.({ type: 'skipped', ref: r.plan.ref, reason });
      outcomes.push({ ref: r.plan.ref, status: 'skipped', reason });
    }
  }
  const origin = source.kind === 'plan-file' ? { commit: source.file.source.commit, ref: source.file.source.ref } : { commit: source.commit, ref: source.ref };
  const jobs = await jobsFromPlans(
    // What a person reviewed must still hold under the lock; an unreviewed (`--yes`) apply re-plans there.
    toApply.map((r) => ({ ref: r.plan.ref, desired: r.plan.desired, actualSerial: r.actualSerial, organization: r.organization, reviewed: source.kind === 'plan-file' || approved === 'confirmed' })),
    {
      source: origin,
      trigger: source.kind === 'plan-file' ? 'plan-file' : 'cli',
      configRoot: source.configRoot,
      engineOf,
      secretsFor: (organization) => secretsFor(organization, { ...(request.secretsFile ? { secretsFile: request.secretsFile } : {}), configRoot: source.configRoot, env: deps.env }),
    },
  );
  const ctx = { stateDir, deps, signal, planner, allowDataLoss: request.allowDataLoss, lockTimeoutMs: request.lockTimeoutMs, command: 'apply', ...(request.refresh ? { refresh: true } : {}), ...(request.onEvent ? { onEvent: request.onEvent } : {}), ...(ad.notifier ? { notifier: ad.notifier } : {}) };
  outcomes.push(...(await runStageJobs(jobs, ctx, { concurrency: request.parallel })));
  outcomes.sort((a, b) => compareCodeUnits(stageKey(a.ref), stageKey(b.ref)));
  return { reviewed, declined: false, outcomes };
}

/**
 * The approval policy of `Approval`: 'yes' (`--yes`), 'confirmed' (on a terminal), 'auto-only'
 * (a plan file without a terminal) or 'declined'.
 */
async function approve(approval: Approval, changed: readonly ReviewedStage[], fromPlanFile: boolean, signal: AbortSignal): Promise<'yes' | 'confirmed' | 'auto-only' | 'declined'> {
  if (approval.yes) return 'yes';
  if (approval.confirm) return (await approval.confirm(changed, signal)) ? 'confirmed' : 'declined';
  if (fromPlanFile) return 'auto-only';
  throw new UsageError('apply needs --yes (or a plan file saved with `setopsd plan --out FILE`) when not run in a terminal');
}

/** The stages of a saved plan, each re-planned for display against what the engine records now. */
async function reviewPlanFile(
  file: PlanFile,
  selectors: readonly string[],
  engineOf: (org: OrganizationModel) => Promise<Engine>,
  signal: AbortSignal,
): Promise<ReviewedStage[]> {
  const byKey = new Map<string, PlanFile['stages'][number]>(file.stages.map((s) => [stageKey(s), s]));
  const out: ReviewedStage[] = [];
  for (const key of selectStages([...byKey.keys()].sort(), selectors)) {
    const s = byKey.get(key)!;
    const ref = planStageRef(s);
    const organization: OrganizationModel = s.desired?.organization ?? { name: s.organization, provider: providerOf(s.engine) };
    const engine = await engineOf(organization);
    const actual = await engine.read(ref, signal);
    if (s.desired === null && actual.model === null) continue; // already gone
    const organizationNow = s.desired?.organization ?? actual.model?.organization ?? organization;
    // Shown as planned from the saved desired model; staleness is checked again under the lock.
    const plan = planStage(s.desired, actual, engine.name);
    plan.violations = s.violations ?? []; // as evaluated at plan time (the file is signed)
    if (actual.serial !== s.actualSerial) {
      plan.notes.push(`the saved plan was made against state serial ${s.actualSerial ?? 'none'}, the stage is now at ${actual.serial ?? 'none'}: it will be refused as stale`);
    }
    // A stage that moved on since the plan is still handed to apply, which refuses it as stale.
    out.push({ plan, hasChanges: s.changes.length > 0, actualSerial: s.actualSerial, organization: organizationNow });
  }
  return out;
}
