import type { EngineName, StageModel, StageRef } from '../model/stage-model.js';
import { stageKey } from '../model/stage-model.js';
import { canonicalJson, hashOf } from '../model/canonical.js';
import type { ActualState } from '../model/actual-state.js';
import { UsageError } from '../errors.js';
import type { Change, Changeset } from '../model/changeset.js';
import type { PolicyViolation } from '../model/policy.js';
import type { StageCost } from '../model/cost.js';
import { plan } from './plan.js';
import { withRepairs } from './repairs.js';
import { withKeptSnapshots } from './final-snapshots.js';
import { secretValueChanges } from './diff-secrets.js';
import { checkPlanSafety, type SafetyProblem } from './safety.js';
import { summarize, type PlanSummary } from './summary.js';

/** The plan of one stage with everything the renderers and the plan file need. */
export interface StagePlan {
  ref: StageRef;
  /** `org/project/stage`. */
  key: string;
  engine: EngineName;
  /** Null: the stage was removed from the manifests (stage delete). */
  desired: StageModel | null;
  actual: ActualState;
  /** Hash of the desired model (`hashOf`), null for a stage delete. */
  desiredHash: string | null;
  changeset: Changeset;
  summary: PlanSummary;
  /** Data-loss and protection problems (warnings in `plan`, refusals in `apply`). */
  problems: SafetyProblem[];
  /** Resource-level lines from the engine's preview (Pulumi), after the stage's own changes. */
  resources: Change[];
  /** Notes for the reader, e.g. a preview that could not run. */
  notes: string[];
  /** Manifest files behind each subject (`stage`, `app/NAME`, …), from `DesiredState.origins`. */
  files: Record<string, string[]>;
  /** Policy violations of the desired model (`kind: Policy`; warnings first). `deny` ones refuse apply. */
  violations: PolicyViolation[];
  /** AWS stages: the estimated monthly cost before → after (`src/providers/aws/cost/`); absent on local stages. */
  cost?: StageCost;
  /** Set by `setopsd diff`: the "actual" side is the desired state at `base`, not recorded state. */
  compare?: { base: string; head: string };
}

/**
 * Builds the plan of one stage from values (pure): changeset, summary, safety warnings, origins.
 * Throws PlanError for a plan that cannot be made (major-version downgrade).
 */
export function planStage(
  desired: StageModel | null,
  actual: ActualState,
  engine: EngineName,
  origins: Record<string, string[]> = {},
  /** Digests of the secrets' current values (`src/state/secret-digests.ts`), when they could be read. */
  secretDigests: Record<string, string> = {},
): StagePlan {
  const planned = withKeptSnapshots(withRepairs(plan(desired, actual.model), desired, actual), actual);
  const changeset = { ...planned, changes: [...planned.changes, ...secretValueChanges(desired, actual, secretDigests)] };
  const ref = changeset.ref;
  return {
    ref,
    key: stageKey(ref),
    engine,
    desired,
    actual,
    desiredHash: desired === null ? null : hashOf(desired),
    changeset,
    summary: summarize(changeset.changes),
    problems: checkPlanSafety(changeset, desired, actual.model, { allowDataLoss: false }),
    resources: [],
    notes: renameNotes(changeset, desired, actual.model),
    files: filesOf(changeset, origins),
    violations: [],
  };
}

/**
 * Notes for deletes that look like renames (an app or service deleted and one with identical
 * settings created): SetOps cannot rename, so the reader should know what that means.
 */
export function renameNotes(changeset: Changeset, desired: StageModel | null, actual: StageModel | null): string[] {
  if (desired === null || actual === null) return [];
  const notes: string[] = [];
  const names = (kind: string, op: string) =>
    changeset.changes.filter((c) => c.op === op && c.path === undefined && c.subject.startsWith(`${kind}/`)).map((c) => c.subject.slice(kind.length + 1));
  for (const kind of ['app', 'service'] as const) {
    const created = names(kind, 'create');
    for (const old of names(kind, 'delete')) {
      const before = kind === 'app' ? actual.apps[old] : actual.services[old];
      const twin = created.find((n) => canonicalJson(kind === 'app' ? desired.apps[n] : desired.services[n]) === canonicalJson(before));
      if (twin === undefined) continue;
      notes.push(
        kind === 'app'
          ? `app/${twin} looks like a rename of app/${old}: apps cannot be renamed in place, so ${twin} is created and ${old} deleted`
          : `service/${twin} looks like a rename of service/${old}: services cannot be renamed; ${twin} is created empty and the data of ${old} is deleted, not moved`,
      );
    }
  }
  return notes;
}

/** The subject whose manifest declares `subject`: links and domains belong to their app (`link/web/db` → `app/web`). */
export function ownerSubject(subject: string): string {
  const [kind, name] = subject.split('/');
  return kind === 'link' || kind === 'domain' ? `app/${name}` : subject;
}

/** The files behind each changed subject; links, domains and env belong to their app. */
function filesOf(changeset: Changeset, origins: Record<string, string[]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const c of changeset.changes) {
    const files = origins[ownerSubject(c.subject)] ?? origins[c.subject];
    if (files && files.length > 0) out[c.subject] = [...files].sort();
  }
  return out;
}

/**
 * The stage keys matching `--stage` selectors. A selector is `org/project/stage`, `project/stage`
 * or `stage`; it must match exactly one stage (UsageError otherwise, listing the known stages).
 */
export function selectStages(keys: readonly string[], selectors: readonly string[]): string[] {
  if (selectors.length === 0) return [...keys];
  const chosen = new Set<string>();
  for (const selector of selectors) {
    const parts = selector.split('/');
    const matches = keys.filter((key) => {
      const k = key.split('/');
      return parts.length <= 3 && parts.every((p, i) => p === k[k.length - parts.length + i]);
    });
    if (matches.length === 0) {
      throw new UsageError(`--stage ${selector}: no such stage; known stages: ${keys.join(', ') || '(none)'}`);
    }
    if (matches.length > 1) {
      throw new UsageError(`--stage ${selector} is ambiguous: it matches ${matches.join(', ')}; use ORG/PROJECT/STAGE`);
    }
    chosen.add(matches[0]!);
  }
  return keys.filter((k) => chosen.has(k));
}

