import type { Deps } from '../deps.js';
import { UsageError, ValidationError, type Issue } from '../errors.js';
import { hashOf } from '../model/canonical.js';
import type { PolicyRule } from '../model/policy.js';
import type { OrganizationModel, StageModel, StageRef } from '../model/stage-model.js';
import type { Engine, SecretResolver } from '../providers/engine.js';
import { engineReadsSecrets } from '../providers/registry.js';
import { verifyNotStale } from '../reconciler/plan-file.js';
import { evaluatePolicies } from '../reconciler/policies.js';
import { policyRefusal } from './policy-gate.js';
import { StateStore } from '../state/store.js';
import { StatusRecords } from '../state/status-record.js';
import { StagePins, describePin } from '../state/pin.js';
import { applyStage, type ApplyEvent, type Planner } from './apply-stage.js';
import type { Notifier } from '../providers/notify/notifier.js';
import { notifyApprovalWaiting } from './stage-notices.js';

/**
 * The newest desired state the daemon has loaded: the stages of one commit, or the located
 * problems of an invalid one (then nothing applies and every stage keeps what it has).
 */
export interface DesiredSnapshot {
  commit: string | null;
  ref: string | null;
  /** Absolute path of the config root (local engine: app `workdir`s are relative to it). */
  configRoot: string;
  /** Stage models by `org/project/stage`; null for an invalid commit. */
  stages: ReadonlyMap<string, StageModel> | null;
  /** Stages whose model comes from another commit than `commit` (preview stages: their pull request's branch). */
  origins?: ReadonlyMap<string, { commit: string | null; ref: string | null; configRoot: string }>;
  issues?: Issue[];
  /** The rules of the commit's `kind: Policy` documents; a stage violating a `deny` rule is not applied. */
  policies?: readonly PolicyRule[];
}

/** What a reconcile reads and calls: built once by the daemon, shared by every stage. */
export interface ReconcileContext {
  deps: Deps;
  stateDir: string;
  /** The newest snapshot, read at the start of each reconcile: commits that arrived meanwhile coalesce. */
  desired(): DesiredSnapshot;
  engineOf(organization: OrganizationModel): Promise<Engine>;
  secretsFor(organization: OrganizationModel, snapshot: DesiredSnapshot): SecretResolver;
  planner: Planner;
  /** Whether a person approved the plan with this id (`setopsd approve STAGE --plan ID`). */
  approved(stage: string, planId: string): boolean;
  /** Whether to deploy even an unchanged stage once (a repair after drift); consumed by the call. */
  repair?(stage: string): boolean;
  /**
   * Whether a stage is a preview stage (`--preview-stages`): it never waits for a person — a
   * preview is unprotected and holds no data beyond its own services, which go with it.
   */
  preview?(key: string): boolean;
  /** A preview stage's destroy succeeded. */
  previewGone?(key: string): Promise<void>;
  /** How many commits `head` is ahead of `commit` in the source (null: cannot tell); for pinned stages. */
  commitsAhead?(commit: string, head: string): Promise<number | null>;
  /** Failures on one desired state after which the stage is `stalled` (default 3). */
  stallAfter?: number;
  lockTimeoutMs?: number;
  onEvent?: (event: ApplyEvent) => void;
  /** Delivers notices (deployments, stalls, approvals waiting) to the stages' `notifications`. */
  notifier?: Notifier;
}

/** What the work queue does next with a stage. Errors are thrown: the queue retries the retryable ones with backoff. */
export interface ReconcileResult {
  /** Look again after this many ms even without a new commit (e.g. a pending check); absent: wait for the next event. */
  requeueAfterMs?: number;
}

/**
 * Level-based reconcile of one stage (controller-runtime's `Reconcile`): read the newest desired
 * snapshot and what the engine recorded, and converge. A plan that needs a person (the stage has
 * `approval: manual`, or it loses data) is held as `waiting-approval` under a plan id derived from
 * (stage, desired hash, actual serial) — unrelated commits do not change it — and applied only once
 * that id is approved, exactly against that serial. A plan the CLI would refuse (protected stage,
 * deletionProtection) fails terminally. A pinned stage is planned, not applied: its status says
 * where it is pinned and how many commits the branch is ahead. Throws the stage's error on
 * failure: `retryable` says whether the queue should back off and try again.
 */
export async function reconcileStage(ctx: ReconcileContext, key: string, signal: AbortSignal): Promise<ReconcileResult> {
  const snapshot = ctx.desired();
  if (snapshot.stages === null) throw new ValidationError(snapshot.issues ?? [], `commit ${snapshot.commit ?? '(working tree)'} is invalid: nothing is applied`);
  const ref = refOfKey(key);
  const records = new StatusRecords(ctx.stateDir, () => ctx.deps.clock.now());
  const previous = await records.read(ref);
  const pin = await new StagePins(ctx.stateDir).read(ref);

  const desired = snapshot.stages.get(key) ?? null;
  const origin = snapshot.origins?.get(key);
  const recorded = desired === null ? (await new StateStore(ctx.stateDir).read(ref)).model : null;
  const organization = desired?.organization ?? recorded?.organization;
  if (organization === undefined) return {}; // neither wanted nor deployed
  const engine = await ctx.engineOf(organization);
  const actual = await engine.read(ref, signal);
  const changeset = ctx.planner.plan(desired, actual.model);
  const violations = desired === null ? [] : evaluatePolicies(snapshot.policies ?? [], desired);
  // Shown with the stage even when it is in sync (a rule added since): its next change is refused.
  const deny = violations.filter((v) => v.severity === 'deny').length;
  const lines = [...violations].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'deny' ? -1 : 1)).map((v) => `${v.severity} ${v.policy}/${v.rule} ${v.subject}: ${v.message} (${v.details.join('; ')})`);
  if (JSON.stringify(lines) !== JSON.stringify(previous?.policy?.violations ?? [])) await records.update(ref, { type: 'policy', deny, warn: violations.length - deny, violations: lines });
  if (pin !== null) {
    // Planned, not applied: the status says how far the branch moved on and what waits.
    const ahead = pin.commit !== null && snapshot.commit !== null && ctx.commitsAhead ? await ctx.commitsAhead(pin.commit, snapshot.commit) : null;
    await records.update(ref, { type: 'pinned', message: describePin(pin, ahead, changeset.changes.length) });
    return {};
  }

  const refusal = desired !== null && changeset.changes.length > 0 ? policyRefusal([{ key, violations }]) : null;
  if (refusal !== null) {
    // Terminal: the status says why until a commit changes the stage or the policies.
    await records.update(ref, { type: 'failed', revision: snapshot.commit, desiredHash: hashOf(desired), code: refusal.code, message: refusal.message });
    throw refusal;
  }
  const dataLoss = changeset.changes.some((c) => c.dataLoss);
  const refusals = ctx.planner.checkSafety(changeset, desired, actual.model, { allowDataLoss: true });
  const preview = ctx.preview?.(key) === true;
  const needsPerson = !preview && changeset.changes.length > 0 && refusals.length === 0 && (dataLoss || desired?.stage.approval === 'manual');
  const desiredHash = desired === null ? null : hashOf(desired);
  const id = planId(key, desiredHash, actual.serial);
  const approved = needsPerson && ctx.approved(key, id);
  if (needsPerson && !approved) {
    const reason = dataLoss ? 'data-loss' : 'manual-approval';
    await records.update(ref, {
      type: 'waiting-approval',
      revision: snapshot.commit,
      desiredHash,
      reason,
      message: `${changeset.changes.length} change${changeset.changes.length === 1 ? '' : 's'} wait for approval${dataLoss ? ' (the plan loses data)' : ''}: setopsd approve ${key} --plan ${id}`,
      plan: { id, desiredHash, actualSerial: actual.serial, dataLoss, changes: changeset.changes },
    });
    notifyApprovalWaiting(ctx.notifier, { ref, model: desired, previous, planId: id, changes: changeset.changes, dataLoss, revision: snapshot.commit, secrets: ctx.secretsFor(organization, snapshot), now: ctx.deps.clock.now() });
    return {};
  }

  const outcome = await applyStage(
    {
      ref,
      desired,
      engine,
      // An approval is for exactly the plan it names: a stage that moved on is refused as stale.
      ...(approved ? { verifyFresh: (now) => verifyNotStale({ ...ref, actualSerial: actual.serial }, now) } : {}),
      source: { commit: origin?.commit ?? snapshot.commit, ref: origin?.ref ?? snapshot.ref },
      trigger: origin ? 'preview' : 'daemon',
      configRoot: origin?.configRoot ?? snapshot.configRoot,
      secrets: ctx.secretsFor(organization, snapshot),
      precheckSecrets: !engineReadsSecrets(organization),
      ...(desired !== null && ctx.repair?.(key) ? { force: true } : {}),
    },
    {
      stateDir: ctx.stateDir,
      deps: ctx.deps,
      signal,
      planner: ctx.planner,
      // A preview stage's services go with it (they hold nothing but the preview's own data).
      allowDataLoss: (approved || preview) && dataLoss,
      lockTimeoutMs: ctx.lockTimeoutMs ?? 0,
      command: 'daemon',
      stallAfter: ctx.stallAfter ?? 3,
      ...(ctx.onEvent ? { onEvent: ctx.onEvent } : {}),
      ...(ctx.notifier ? { notifier: ctx.notifier } : {}),
    },
  );
  if (outcome.status === 'failed') throw outcome.error;
  if (preview && desired === null && outcome.status === 'succeeded') await ctx.previewGone?.(key);
  return {};
}

/** The id of a pending plan: the same for the same stage, desired state and actual state, whatever the commit. */
export function planId(stage: string, desiredHash: string | null, actualSerial: string | null): string {
  return hashOf({ stage, desiredHash, actualSerial }).replace(/^sha256:/, '').slice(0, 12);
}

function refOfKey(key: string): StageRef {
  const [organization, project, stage] = key.split('/');
  if (!organization || !project || !stage) throw new UsageError(`"${key}" is not a stage key; use ORG/PROJECT/STAGE`);
  return { organization, project, stage };
}
