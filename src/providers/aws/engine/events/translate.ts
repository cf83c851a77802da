/**
 * Pulumi engine events → setopsd plan lines, progress and outcome.
 *
 * The engine reports a run as a stream of `apitype.EngineEvent` objects (Automation API
 * `onEvent`, or the CLI's `--event-log`). Translation is pure: it takes events and returns data.
 * Events are ordered by `sequence` (stable for equal numbers: the engine's lifecycle tests zero
 * them), then a `Translator` takes them one by one: steps become plan lines (changes.ts),
 * progress (progress.ts) and step counts (step-tracker.ts); diagnostics and policy findings
 * are collected (diagnostics.ts); the summary event gives the resource counts.
 */
import type { Translation, EngineEventLike, StepMetadata, SummaryEventBody, DiagnosticEventBody, PolicyEventBody } from './types.js';
import { ChangeLog } from './changes.js';
import { DiagnosticLog } from './diagnostics.js';
import { ProgressLog } from './progress.js';
import { StepTracker } from './step-tracker.js';
import { planOp, STACK_TYPE, STEP_EVENT_KINDS, stepOf } from './steps.js';

/** Events ordered by `sequence`; equal (or missing) sequence numbers keep their arrival order. */
export function orderEvents(events: readonly EngineEventLike[]): EngineEventLike[] {
  return events
    .map((e, idx) => ({ e, idx }))
    .sort((a, b) => (a.e.sequence ?? 0) - (b.e.sequence ?? 0) || a.idx - b.idx)
    .map((x) => x.e);
}

/**
 * Translates a whole event stream. Pure and deterministic: the same events give the same
 * translation whatever order they arrived in.
 */
export function translateEvents(events: readonly EngineEventLike[]): Translation {
  const translator = new Translator();
  for (const event of orderEvents(events)) translator.add(event);
  return translator.result();
}

/** What a run's `summaryEvent` says. */
interface RunSummary {
  /** `resourceChanges`, keys sorted. */
  counts: Record<string, number>;
  maybeCorrupt: boolean;
  result: string | undefined;
}

/** The translation of one event stream, taken event by event in `sequence` order (`orderEvents`). */
export class Translator {
  private readonly changes = new ChangeLog();
  private readonly steps = new StepTracker();
  private readonly progress = new ProgressLog();
  private readonly notes = new DiagnosticLog();
  private preview = false;
  /** The last `summaryEvent`; none when the stream ended without one. */
  private summary: RunSummary | undefined;

  /** Takes the next event; unknown event kinds are ignored. */
  add(event: EngineEventLike): void {
    // Progress first: it compares the event with the steps running before it.
    this.progress.add(event, (urn) => this.steps.running(urn));
    if (STEP_EVENT_KINDS.some((kind) => (event[kind] as { planning?: boolean } | undefined)?.planning)) this.preview = true;
    const pre = stepOf(event, 'resourcePreEvent');
    if (pre) this.stepStarted(pre);
    const out = stepOf(event, 'resOutputsEvent');
    if (out) this.stepOutputs(out);
    const fail = stepOf(event, 'resOpFailedEvent');
    if (fail) this.steps.failedStep(fail);
    const diag = event.diagnosticEvent as DiagnosticEventBody | undefined;
    if (diag) this.notes.diagnostic(diag);
    const pol = event.policyEvent as PolicyEventBody | undefined;
    if (pol) this.notes.policyFinding(pol);
    const sum = event.summaryEvent as SummaryEventBody | undefined;
    if (sum) this.summaryEvent(sum);
  }

  /** The translation of the events taken so far. */
  result(): Translation {
    const unfinished = this.preview ? [] : this.steps.unfinished();
    const pending = unfinished.map((s) => s.subject);
    const failed = this.steps.failed;
    const changes = this.changes.changes();
    const completed = changes
      .map((c) => c.subject)
      .filter((s, i, all) => all.indexOf(s) === i && this.steps.hasFinished(s) && !pending.includes(s) && !failed.includes(s));
    const { diagnostics, policy, previousPendingOperations } = this.notes;
    return {
      preview: this.preview,
      changes,
      completed,
      progress: this.progress.all(),
      summary: this.summary?.counts ?? {},
      outcome: this.outcome(pending),
      maybeCorrupt: this.summary?.maybeCorrupt ?? false,
      pending,
      pendingSteps: unfinished.map((s) => ({ urn: s.urn, op: s.op })),
      failed,
      diagnostics,
      policy,
      previousPendingOperations,
    };
  }

  /** A step started: a plan line for steps that change something (not the stack itself). */
  private stepStarted(pre: StepMetadata): void {
    this.steps.started(pre);
    if (pre.type === STACK_TYPE) return;
    const mapped = planOp(pre.op);
    if (mapped) this.changes.record(pre, mapped.op, mapped.reason);
  }

  /**
   * A step finished. A refresh reports drift in its outputs step: the pre step says `refresh`,
   * the outputs step says what the refresh found (`update`: changed outside Pulumi, `delete`: gone).
   */
  private stepOutputs(out: StepMetadata): void {
    this.steps.succeeded(out);
    if (out.type === STACK_TYPE || !this.steps.hasStarted(out.urn, 'refresh')) return;
    if (out.op === 'update' || out.op === 'delete') {
      this.changes.record(out, out.op, out.op === 'delete' ? 'deleted outside Pulumi' : 'changed outside Pulumi', 'refresh');
    }
  }

  /** The run's summary: resource counts, whether the state may be corrupt, the result. */
  private summaryEvent(sum: SummaryEventBody): void {
    this.summary = { counts: sortedRecord(sum.resourceChanges ?? {}), maybeCorrupt: sum.maybeCorrupt === true, result: sum.result };
    if (sum.isPreview) this.preview = true;
  }

  /** `failed` when anything failed, `interrupted` when steps never finished or no summary came. */
  private outcome(pending: readonly string[]): Translation['outcome'] {
    const policyFailed = this.notes.policy.some((p) => p.level === 'mandatory');
    const errored = this.notes.diagnostics.some((d) => d.severity === 'error');
    if (this.summary?.result === 'failed' || this.steps.failed.length > 0 || policyFailed || errored) return 'failed';
    if (pending.length > 0 || this.summary === undefined) return 'interrupted';
    return 'succeeded';
  }
}

function sortedRecord(r: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k]!;
  return out;
}
