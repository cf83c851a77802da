/**
 * Which resource steps of a run started and finished: the pending operations an interrupted run
 * leaves, the failed resources and the ones whose steps completed.
 */
import { resourceSubject, STACK_TYPE } from './steps.js';
import type { StepMetadata } from './types.js';

/** The steps of one resource (URN): started minus finished, and the op of the last start. */
interface OpenSteps {
  subject: string;
  count: number;
  op?: string;
}

/** Counts the steps of each resource of a run as they start, finish and fail. */
export class StepTracker {
  /** Subjects whose step failed, in the order they failed. */
  readonly failed: string[] = [];
  private readonly open = new Map<string, OpenSteps>();
  private readonly startedOps = new Map<string, Set<string>>();
  private readonly finished = new Set<string>();

  /** Started minus finished steps of the resource at `urn` (below zero when outputs came first). */
  running(urn: string): number {
    return this.open.get(urn)?.count ?? 0;
  }

  /** A `resourcePreEvent`: the step started. */
  started(meta: StepMetadata): void {
    this.count(meta, 1).op = meta.op;
    const ops = this.startedOps.get(meta.urn) ?? new Set<string>();
    ops.add(meta.op);
    this.startedOps.set(meta.urn, ops);
  }

  /** A `resOutputsEvent`: the step finished. */
  succeeded(meta: StepMetadata): void {
    // Counts may go below zero when a step's outputs are numbered before its start.
    this.count(meta, -1);
    this.finished.add(resourceSubject(meta.type, meta.urn));
  }

  /** A `resOpFailedEvent`: the step finished and failed. */
  failedStep(meta: StepMetadata): void {
    this.count(meta, -1);
    const subject = resourceSubject(meta.type, meta.urn);
    if (!this.failed.includes(subject)) this.failed.push(subject);
  }

  /** The op of the last step that started for the resource at `urn`. */
  lastStarted(urn: string): string | undefined {
    return this.open.get(urn)?.op;
  }

  /** A step with `op` started for the resource at `urn`. */
  hasStarted(urn: string, op: string): boolean {
    return this.startedOps.get(urn)?.has(op) ?? false;
  }

  /** A step of the resource `subject` finished with outputs. */
  hasFinished(subject: string): boolean {
    return this.finished.has(subject);
  }

  /** Steps that started and never finished, except the stack's own: URN, subject and the op. */
  unfinished(): { urn: string; subject: string; op: string }[] {
    return [...this.open.entries()]
      .filter(([, o]) => o.count > 0 && !o.subject.startsWith(`resource/${STACK_TYPE}/`))
      .map(([urn, o]) => ({ urn, subject: o.subject, op: o.op ?? 'unknown' }));
  }

  /** Counts a step of `meta`'s resource as started (+1) or finished (-1). */
  private count(meta: StepMetadata, by: 1 | -1): OpenSteps {
    const o = this.open.get(meta.urn) ?? { subject: resourceSubject(meta.type, meta.urn), count: 0 };
    o.count += by;
    this.open.set(meta.urn, o);
    return o;
  }
}
