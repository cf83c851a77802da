import { JSON_FORMAT_VERSION } from './error-json.js';
import type { StagePlan } from '../reconciler/stage-plan.js';
import { planDocument, type PlanChangeJson, type PlanDocument, type PlanSource, type PlanStageJson } from '../reconciler/plan-document.js';
import { isMaskedSecret } from '../reconciler/mask.js';

/** A secret as structured JSON: which secret, never its value. */
export interface SecretMarkerJson {
  secret: string;
}

/** A change of the rendered JSON plan: the contract's fields plus structured secret markers. */
export interface RenderedChangeJson extends PlanChangeJson {
  /** Added: `before` with every secret as `{ secret: NAME }`; present only when `before` holds a secret. */
  beforeValue?: unknown;
  /** Added: `after` with every secret as `{ secret: NAME }`; present only when `after` holds a secret. */
  afterValue?: unknown;
}

/** A stage of the rendered JSON plan: the contract's fields plus what a reviewer needs in CI. */
export interface RenderedStageJson extends PlanStageJson {
  /** Added: the full stage key `org/project/stage`. */
  key: string;
  /** Added: the stage's approval mode (`manual`: apply waits for a person); null for a stage delete of an unknown stage. */
  approval: 'auto' | 'manual' | null;
  /** Added: whether the stage is protected (deletes and data loss are refused). */
  protected: boolean;
  changes: RenderedChangeJson[];
  resources: RenderedChangeJson[];
}

/** The JSON plan as `plan --format json` prints it. */
export interface RenderedPlanJson extends Omit<PlanDocument, 'stages'> {
  stages: RenderedStageJson[];
}

/** The JSON plan (`formatVersion: 1`, the contract of docs/architecture.md), pretty-printed with a trailing newline. */
export function renderJson(plans: readonly StagePlan[], source: PlanSource): string {
  return JSON.stringify(planJson(plans, source), null, 2) + '\n';
}

/** The plan document with the fields only the rendered JSON adds (stage key, approval, protection, secret markers). */
export function planJson(plans: readonly StagePlan[], source: PlanSource): RenderedPlanJson {
  const doc = planDocument(plans, source);
  return { ...doc, stages: doc.stages.map((s, i) => stageExtras(s, plans[i]!)) };
}

function stageExtras(s: PlanStageJson, plan: StagePlan): RenderedStageJson {
  const settings = (plan.desired ?? plan.actual.model)?.stage;
  return {
    ...s,
    key: plan.key,
    approval: settings?.approval ?? null,
    protected: settings?.protected ?? false,
    changes: s.changes.map(changeExtras),
    resources: s.resources.map(changeExtras),
  };
}

function changeExtras(c: PlanChangeJson): RenderedChangeJson {
  const out: RenderedChangeJson = { ...c };
  if (holdsSecret(c.before)) out.beforeValue = structuredSecrets(c.before);
  if (holdsSecret(c.after)) out.afterValue = structuredSecrets(c.after);
  return out;
}

function holdsSecret(value: unknown): boolean {
  if (isMaskedSecret(value)) return true;
  if (Array.isArray(value)) return value.some(holdsSecret);
  if (typeof value === 'object' && value !== null) return Object.values(value).some(holdsSecret);
  return false;
}

/** A masked value (`(secret NAME)` strings, see `maskEnvValue`) with each secret as `{ secret: NAME }`. */
export function structuredSecrets(value: unknown): unknown {
  if (isMaskedSecret(value)) return { secret: value.slice('(secret '.length, -1) } satisfies SecretMarkerJson;
  if (Array.isArray(value)) return value.map(structuredSecrets);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, structuredSecrets(v)]));
  }
  return value;
}

export { JSON_FORMAT_VERSION, issueJson, renderErrorJson, type ErrorJson, type IssueJson } from './error-json.js';
