import type { Change } from '../model/changeset.js';
import type { PolicyViolation } from '../model/policy.js';
import type { StageCost } from '../model/cost.js';
import { sortKeys } from '../model/canonical.js';
import { stageKey } from '../model/stage-model.js';
import type { StagePlan } from './stage-plan.js';
import type { SafetyProblem } from './safety.js';
import { addSummaries, type PlanSummary } from './summary.js';

/** A change as written in the JSON plan: the Change fields plus the manifest files behind it. */
export interface PlanChangeJson extends Change {
  files?: string[];
}

/** A safety problem as written in the JSON plan. */
export interface PlanWarningJson {
  stage: string;
  subject: string;
  code: SafetyProblem['code'];
  refused: boolean;
  message: string;
}

/** One stage of the JSON plan (docs/architecture.md "The JSON plan contract", plus additive fields). */
export interface PlanStageJson {
  organization: string;
  project: string;
  stage: string;
  engine: string;
  actualSerial: string | null;
  desiredHash: string | null;
  changes: PlanChangeJson[];
  /** Added: counts of this stage. */
  summary: PlanSummary;
  /** Added: how many changes destroy data. */
  dataLoss: number;
  /** Added: data-loss and protection warnings of this stage. */
  warnings: PlanWarningJson[];
  /** Added: resource-level lines from the engine preview (Pulumi). */
  resources: Change[];
  /** Added: notes such as a skipped preview. */
  notes: string[];
  /** Added: every manifest file behind this stage's changes. */
  files: string[];
  /** Added (policies): violations of the `kind: Policy` rules, warnings first; `deny` ones refuse apply. Absent: none. */
  violations?: PolicyViolation[];
  /** Added (policies): how many violations (`deny` and `warn`), for check runs ("K policy violations"). Absent: none. */
  policyViolations?: { deny: number; warn: number };
  /** Added (cost): AWS stages only, the estimated monthly cost before → after and the delta, with the price table's date, source and assumptions. */
  cost?: StageCost;
}

/** The JSON plan, `formatVersion: 1` (docs/architecture.md "The JSON plan contract"). Fields may be added, never renamed or removed. */
export interface PlanDocument {
  formatVersion: 1;
  source: { ref: string | null; commit: string | null; base?: { ref: string; commit: string } };
  /** Added: every stage's warnings, first so readers see them first. */
  warnings: PlanWarningJson[];
  stages: PlanStageJson[];
  summary: PlanSummary;
}

/** Where the plan's desired state came from. */
export interface PlanSource {
  ref?: string;
  commit?: string;
  base?: { ref: string; commit: string };
}

/** Orders a change's keys the same way every time (JSON output never depends on insertion order). */
export function changeJson(c: Change, files?: string[]): PlanChangeJson {
  const out: Record<string, unknown> = { op: c.op, subject: c.subject };
  if (c.path !== undefined) out.path = c.path;
  if (c.before !== undefined) out.before = sortKeys(c.before);
  if (c.after !== undefined) out.after = sortKeys(c.after);
  out.dataLoss = c.dataLoss;
  if (c.reason !== undefined) out.reason = c.reason;
  out.command = c.command;
  if (files !== undefined && files.length > 0) out.files = files;
  return out as unknown as PlanChangeJson;
}

function warningJson(p: SafetyProblem): PlanWarningJson {
  return { stage: stageKey(p.stage), subject: p.subject, code: p.code, refused: p.refused, message: p.message };
}

/** The JSON entry of one stage. */
export function stageJson(p: StagePlan): PlanStageJson {
  const files = new Set<string>();
  for (const list of Object.values(p.files)) for (const f of list) files.add(f);
  return {
    organization: p.ref.organization,
    project: p.ref.project,
    stage: p.ref.stage,
    engine: p.engine,
    actualSerial: p.actual.serial,
    desiredHash: p.desiredHash,
    changes: p.changeset.changes.map((c) => changeJson(c, p.files[c.subject])),
    summary: p.summary,
    dataLoss: p.summary.dataLoss,
    warnings: p.problems.map(warningJson),
    resources: p.resources.map((c) => changeJson(c)),
    notes: [...p.notes],
    files: [...files].sort(),
    // policies: present when the stage violates a rule (absent: no violation)
    ...(p.violations.length > 0
      ? {
          violations: p.violations.map((v) => ({ ...v, details: [...v.details] })),
          policyViolations: { deny: p.violations.filter((v) => v.severity === 'deny').length, warn: p.violations.filter((v) => v.severity === 'warn').length },
        }
      : {}),
    // cost
    ...(p.cost ? { cost: p.cost } : {}),
  };
}

/** The whole JSON plan of a set of stage plans (already sorted by stage key). */
export function planDocument(plans: readonly StagePlan[], source: PlanSource): PlanDocument {
  const src: PlanDocument['source'] = { ref: source.ref ?? null, commit: source.commit ?? null };
  if (source.base) src.base = source.base;
  return {
    formatVersion: 1,
    source: src,
    warnings: plans.flatMap((p) => p.problems.map(warningJson)),
    stages: plans.map(stageJson),
    summary: addSummaries(plans.map((p) => p.summary)),
  };
}
