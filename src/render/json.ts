import type { StagePlan } from '../reconciler/stage-plan.js';
import { planDocument, type PlanSource } from '../reconciler/plan-document.js';

/** The JSON plan (`formatVersion: 1`, the contract of docs/architecture.md), pretty-printed with a trailing newline. */
export function renderJson(plans: readonly StagePlan[], source: PlanSource): string {
  return JSON.stringify(planDocument(plans, source), null, 2) + '\n';
}
