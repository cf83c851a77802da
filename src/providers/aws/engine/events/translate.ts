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
import { countedOp, finishesSilently, isDefaultProvider, planOp, STACK_TYPE, STEP_EVENT_KINDS, stepOf } from './steps.js';

/** Events ordered by `sequence`; equal (or missing) sequence numbers keep their arrival order. */
export function orderEvents(events: readonly EngineEventLike[]): EngineEventLike[] {
  return events
    .map((e, idx) => ({ e, idx }))
    .sort((a, b) => (a.e.sequence ?? 0) - (b.e.sequence ?? 0) || a.idx - b.idx)
    .map((x) => x.e);
}

/** What Pulumi itself said about the run, beyond its events. */
export interface RunResult {
  /**
   * The operation's result: `succeeded` when the CLI finished it (the Automation API call
   * resolved; `UpResult.summary.result`), `failed`, `in-progress` or `not-started`. Absent when
   * the stream is all there is (a recorded event log, or a run that threw).
   */
  result?: string;
}

/**
 * Translates a whole event stream. Pure and deterministic: the same events give the same
 * translation whatever order they arrived in. Pulumi's own result (`run.result`, else the
 * `summaryEvent`'s) decides the outcome; step bookkeeping only when neither says.
 */
export function translateEvents(events: readonly EngineEventLike[], run: RunResult = {}): Translation {
  const translator = new Translator(run.result);
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
  /** Resource counts by step op, counted the way Pulumi counts `resourceChanges`. */
  private readonly counts = new Map<string, number>();
  /** Component steps of an update counted when they started (they send no outputs event), by URN and op. */
  private readonly silent = new Map<string, string>();
  /** Planned steps counted, by URN (a preview error for the URN takes it back). */
  private readonly plannedCounted = new Map<string, string>();
  /** URN and op of the steps of an update whose outputs event was seen. */
  private readonly finished = new Set<string>();
  /** URN and op of the planned steps counted. */
  private readonly planned = new Set<string>();

  /** `result`: what Pulumi said of the run (see `RunResult`). */
  constructor(private readonly engineResult?: string) {}

  /** Takes the next event; unknown event kinds are ignored. */
  add(event: EngineEventLike): void {
    // Progress first: it compares the event with the steps running before it.
    this.progress.add(event, (urn) => this.steps.running(urn));
    if (STEP_EVENT_KINDS.some((kind) => (event[kind] as { planning?: boolean } | undefined)?.planning)) this.preview = true;
    const pre = stepOf(event, 'resourcePreEvent');
    if (pre) {
      const key = `${pre.urn}\u0000${pre.op}`;
      if ((event.resourcePreEvent as { planning?: boolean }).planning) {
        // A preview counts planned steps (the display may repeat a planned step's events:
        // counted once per resource and op); a planned step that fails is taken back below. A
        // planned read or refresh is judged by its outputs event (what it read or found).
        if (!this.planned.has(key) && pre.op !== 'read' && pre.op !== 'refresh') {
          this.planned.add(key);
          const op = countedOp(pre, false);
          if (op !== null) this.plannedCounted.set(pre.urn, op);
          this.count(op);
        }
      } else if (finishesSilently(pre) && !this.finished.has(key)) {
        // A component's step sends no outputs event when it finishes: counted now, uncounted if
        // it fails, not again when the component registers its outputs.
        const op = countedOp(pre, false);
        if (op !== null) this.silent.set(key, op);
        this.count(op);
      }
      this.stepStarted(pre);
    }
    const out = stepOf(event, 'resOutputsEvent');
    if (out) {
      const planning = (event.resOutputsEvent as { planning?: boolean }).planning === true;
      const key = `${out.urn}\u0000${out.op}`;
      // After a refresh step, the outputs event names its result (same, update, delete) in a
      // `pulumi refresh`, and `refresh` itself (not counted) in an update that refreshes first.
      const afterRefresh = this.steps.lastStarted(out.urn) === 'refresh';
      if (!planning) {
        // An update counts finished steps, once per resource and op (a component may register
        // outputs after its step; a custom resource's outputs may be reported again).
        // Each refresh counts (a refresh may delete several state entries under one URN).
        if (afterRefresh) this.count(countedOp(out, true));
        else if (!this.silent.has(key) && !this.finished.has(key)) this.count(countedOp(out, false));
        this.finished.add(key);
      } else if (afterRefresh) {
        // A planned refresh: what it would find. Each refresh pass counts.
        this.count(countedOp(out, true));
      } else if (out.op === 'read' && !this.planned.has(`${key}\u0000outputs`)) {
        this.planned.add(`${key}\u0000outputs`);
        this.count(countedOp(out, false));
      }
      this.stepOutputs(out);
    }
    const fail = stepOf(event, 'resOpFailedEvent');
    if (fail) {
      this.steps.failedStep(fail);
      const key = `${fail.urn}\u0000${fail.op}`;
      const silent = this.silent.get(key);
      if (silent !== undefined) {
        this.silent.delete(key);
        this.count(silent, -1);
      }
    }
    const diag = event.diagnosticEvent as DiagnosticEventBody | undefined;
    if (diag) {
      this.notes.diagnostic(diag);
      // A planned step that fails (a protected delete, a provider error) is not counted by Pulumi.
      const planned = diag.severity === 'error' && diag.urn ? this.plannedCounted.get(diag.urn) : undefined;
      if (planned !== undefined) {
        this.plannedCounted.delete(diag.urn!);
        this.count(planned, -1);
      }
    }
    const pol = event.policyEvent as PolicyEventBody | undefined;
    if (pol) this.notes.policyFinding(pol);
    const sum = event.summaryEvent as SummaryEventBody | undefined;
    if (sum) this.summaryEvent(sum);
  }

  /** The translation of the events taken so far. */
  result(): Translation {
    const said = this.pulumiResult();
    // A run Pulumi finished left nothing pending, whatever the step bookkeeping says (component
    // resources, for one, may never report outputs).
    const unfinished = this.preview || said === 'succeeded' ? [] : this.steps.unfinished();
    const pending = unfinished.map((s) => s.subject);
    const failed = this.steps.failed;
    const changes = this.changes.changes();
    const completed = changes
      .map((c) => c.subject)
      .filter(
        (s, i, all) =>
          all.indexOf(s) === i && (said === 'succeeded' || (this.steps.hasFinished(s) && !pending.includes(s))) && !failed.includes(s),
      );
    const { diagnostics, policy, previousPendingOperations } = this.notes;
    return {
      preview: this.preview,
      changes,
      completed,
      progress: this.progress.all(),
      summary: this.summary?.counts ?? {},
      counts: sortedRecord(Object.fromEntries(this.counts)),
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
    if (pre.type === STACK_TYPE || isDefaultProvider(pre.type, pre.urn)) return;
    if (pre.op === 'delete-replaced' && !this.changes.has(pre, 'replace')) {
      // No replacement in this run: the engine cleans up a resource an earlier replacement left
      // pending deletion. Its data moved to the replacement then; nothing is replaced now.
      this.changes.record(pre, 'delete', 'cleans up a resource an earlier replacement left pending deletion', 'up', false);
      return;
    }
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

  /** Adds one (or `by`) to the count of `op` (null: not counted). */
  private count(op: string | null, by = 1): void {
    if (op === null) return;
    const n = (this.counts.get(op) ?? 0) + by;
    if (n === 0) this.counts.delete(op);
    else this.counts.set(op, n);
  }

  /** Pulumi's word on the run: the operation's result, else the summary event's. */
  private pulumiResult(): string | undefined {
    return this.engineResult ?? this.summary?.result;
  }

  /**
   * Pulumi's result when it gave one (`succeeded`, `failed`; `in-progress` / `not-started`:
   * interrupted). Otherwise `failed` when anything failed, `interrupted` when steps never
   * finished or no summary came.
   */
  private outcome(pending: readonly string[]): Translation['outcome'] {
    const said = this.pulumiResult();
    if (said === 'succeeded' || said === 'failed') return said;
    if (said === 'in-progress' || said === 'not-started') return 'interrupted';
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
