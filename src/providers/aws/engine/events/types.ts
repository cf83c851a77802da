/**
 * The shapes of Pulumi engine events setopsd reads (`apitype.EngineEvent`, as the Automation
 * API's `onEvent` or the CLI's `--event-log` gives them) and of their translation.
 */
import type { Change } from '../../../../model/changeset.js';
import type { ProgressEvent } from '../../../engine.js';

/** The part of `apitype.EngineEvent` setopsd reads. Unknown event kinds are ignored. */
export interface EngineEventLike {
  sequence?: number;
  timestamp?: number;
  [kind: string]: unknown;
}

/** The resource state inside a step (`StepEventStateMetadata`). */
export interface StepState {
  type?: string;
  urn?: string;
  custom?: boolean;
  delete?: boolean;
  id?: string;
  parent?: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
  provider?: string;
  /** Pulumi refuses to delete the resource. */
  protect?: boolean;
  /** A delete only drops the resource from the state: it stays in AWS. */
  retainOnDelete?: boolean;
}

/** `StepEventMetadata`: one resource step. */
export interface StepMetadata {
  op: string;
  urn: string;
  type: string;
  old?: StepState | null;
  new?: StepState | null;
  keys?: string[] | null;
  diffs?: string[] | null;
  detailedDiff?: Record<string, { diffKind: string; inputDiff?: boolean }> | null;
  logical?: boolean;
  provider?: string;
}

/** The body of a `diagnosticEvent`. */
export interface DiagnosticEventBody {
  urn?: string;
  message?: string;
  severity?: string;
  ephemeral?: boolean;
}

/** The body of a `policyEvent`. */
export interface PolicyEventBody {
  resourceUrn?: string;
  message?: string;
  policyName?: string;
  policyPackName?: string;
  enforcementLevel?: string;
}

/** The body of a `summaryEvent`. */
export interface SummaryEventBody {
  resourceChanges?: Record<string, number>;
  maybeCorrupt?: boolean;
  isPreview?: boolean;
  result?: string;
}

/** A diagnostic the engine printed (errors and warnings only; program `info` output is left out). */
export interface Diagnostic {
  severity: 'error' | 'warning';
  subject?: string;
  message: string;
}

/** A policy pack finding. `mandatory` ones fail the run. */
export interface PolicyViolation {
  pack: string;
  policy: string;
  level: string;
  subject?: string;
  message: string;
}

/** Everything setopsd takes from one engine event stream. */
export interface Translation {
  /** The stream is a preview (`planning: true` steps or `summaryEvent.isPreview`). */
  preview: boolean;
  /** Resource-level changes in step order: per resource and operation, one line per changed property (or one for the whole resource). */
  changes: Change[];
  /** Subjects of changes whose steps all completed (what an interrupted or failed run really did). */
  completed: string[];
  /** One event per resource step, as the engine reported them. */
  progress: ProgressEvent[];
  /** `summaryEvent.resourceChanges`, keys sorted; empty when the stream has no summary. */
  summary: Record<string, number>;
  /**
   * Resource counts by step op, counted from the steps the way Pulumi counts `resourceChanges`
   * (finished steps, or planned ones in a preview; no default providers, a replacement once,
   * each state entry a refresh deleted): equal to `summary` for a run Pulumi finished.
   */
  counts: Record<string, number>;
  /**
   * `succeeded`; `failed` (a step, policy or the engine failed); `interrupted` (steps started
   * and never finished, or the stream ended without a summary).
   */
  outcome: 'succeeded' | 'failed' | 'interrupted';
  /** The engine could not record every step: the state may not match the real resources. */
  maybeCorrupt: boolean;
  /** Subjects whose step started and never finished (pending operations). */
  pending: string[];
  /** The steps behind `pending`: URN and the step op that did not finish. */
  pendingSteps: { urn: string; op: string }[];
  /** Subjects whose step failed. */
  failed: string[];
  diagnostics: Diagnostic[];
  policy: PolicyViolation[];
  /** The engine warned that an earlier interrupted deployment left pending operations. */
  previousPendingOperations: boolean;
}
