import type { Change } from '../model/changeset.js';
import type { StageModel, StageRef } from '../model/stage-model.js';
import type { SecretResolver } from '../providers/engine.js';
import { approvalNotice, deploymentNotice, stalledNotice } from '../providers/notify/notices.js';
import type { Notifier } from '../providers/notify/notifier.js';
import type { Deployment } from '../state/journal.js';
import type { StageStatusRecord } from '../state/status-record.js';

/**
 * The notices the apply path sends: one per finished deployment, one when a stage becomes
 * stalled, one when a plan starts waiting for approval. Each returns at once (delivery runs in the
 * background, see `Notifier`); a stage without `notifications` costs nothing.
 */

/** After a deployment finished; `record` is the status record it left (stalled: a second notice). */
export function notifyDeployment(notifier: Notifier | undefined, p: { ref: StageRef; model: StageModel | null; deployment: Deployment; record: StageStatusRecord | undefined; secrets: SecretResolver; now: number; stallAfter?: number }): void {
  // A destroy has no desired model; the stage and its notification targets are going away.
  if (notifier === undefined || p.model === null) return;
  notifier.notify(p.model, deploymentNotice(p.ref, p.deployment, p.now), p.secrets);
  notifyIfStalled(notifier, p);
}

/** When the record just became `stalled` (only on the failure that reached the bound, not on each one after). */
export function notifyIfStalled(notifier: Notifier | undefined, p: { ref: StageRef; model: StageModel | null; record: StageStatusRecord | undefined; secrets: SecretResolver; now: number; stallAfter?: number }): void {
  const r = p.record;
  if (notifier === undefined || p.model === null || r?.state !== 'stalled') return;
  if (p.stallAfter !== undefined && r.failures !== p.stallAfter) return;
  notifier.notify(p.model, stalledNotice(p.ref, { failures: r.failures, code: r.reason ?? 'E_UNKNOWN', message: r.message ?? '' }, p.now), p.secrets);
}

/** When a plan starts waiting (not again while the same plan keeps waiting). */
export function notifyApprovalWaiting(
  notifier: Notifier | undefined,
  p: { ref: StageRef; model: StageModel | null; previous: StageStatusRecord | null; planId: string; changes: readonly Change[]; dataLoss: boolean; revision: string | null; secrets: SecretResolver; now: number },
): void {
  if (notifier === undefined || p.model === null) return;
  if (p.previous?.state === 'waiting-approval' && p.previous.pendingPlan?.id === p.planId) return;
  notifier.notify(p.model, approvalNotice(p.ref, { planId: p.planId, changes: p.changes, dataLoss: p.dataLoss, revision: p.revision }, p.now), p.secrets);
}
