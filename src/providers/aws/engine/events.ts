/**
 * Pulumi engine events → setopsd plan lines, progress and outcome.
 *
 * The engine reports a run as a stream of `apitype.EngineEvent` objects (Automation API
 * `onEvent`, or the CLI's `--event-log`). This module is pure: it takes events and returns data.
 * Events are ordered by `sequence` (stable for equal numbers: the engine's lifecycle tests zero
 * them); a replacement's create-replacement / replace / delete-replaced steps collapse into one
 * `replace` line; changed properties come from `detailedDiff` (falling back to `diffs`, then
 * `keys`); secrets show as `(secret)` and preview unknowns as `(known after apply)`.
 */
import type { Change, Op } from '../../../model/changeset.js';
import type { ProgressEvent } from '../../engine.js';
import { displayValue, getAtPath, parsePropertyPath } from './values.js';

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

/** Events ordered by `sequence`; equal (or missing) sequence numbers keep their arrival order. */
export function orderEvents(events: readonly EngineEventLike[]): EngineEventLike[] {
  return events
    .map((e, idx) => ({ e, idx }))
    .sort((a, b) => (a.e.sequence ?? 0) - (b.e.sequence ?? 0) || a.idx - b.idx)
    .map((x) => x.e);
}

const STACK_TYPE = 'pulumi:pulumi:Stack';

/** Resource types whose deletion or replacement destroys stored data. */
const STATEFUL_TYPES = new Set([
  'aws:rds/instance:Instance',
  'aws:rds/cluster:Cluster',
  'aws:rds/clusterInstance:ClusterInstance',
  'aws:elasticache/replicationGroup:ReplicationGroup',
  'aws:elasticache/cluster:Cluster',
  'aws:s3/bucket:Bucket',
  'aws:s3/bucketV2:BucketV2',
  'aws:efs/fileSystem:FileSystem',
  'aws:docdb/cluster:Cluster',
  'aws:docdb/clusterInstance:ClusterInstance',
  'aws:opensearch/domain:Domain',
  'aws:elasticsearch/domain:Domain',
  'aws:dynamodb/table:Table',
  'aws:ebs/volume:Volume',
]);

/** Present-tense and past-tense words for each step op. */
const OP_WORDS: Record<string, [string, string]> = {
  create: ['creating', 'created'],
  update: ['updating', 'updated'],
  delete: ['deleting', 'deleted'],
  replace: ['replacing', 'replaced'],
  'create-replacement': ['creating replacement', 'created replacement'],
  'delete-replaced': ['deleting replaced', 'deleted replaced'],
  'discard-replaced': ['discarding replaced', 'discarded replaced'],
  read: ['reading', 'read'],
  'read-replacement': ['reading replacement', 'read replacement'],
  refresh: ['refreshing', 'refreshed'],
  import: ['importing', 'imported'],
  'import-replacement': ['importing replacement', 'imported replacement'],
  discard: ['discarding', 'discarded'],
  'remove-pending-replace': ['removing pending replace', 'removed pending replace'],
};

/** The plan operation of a step op; null for steps that change nothing (same, read, refresh, …). */
export function planOp(stepOp: string): { op: Op; reason?: string } | null {
  switch (stepOp) {
    case 'create':
      return { op: 'create' };
    case 'update':
      return { op: 'update' };
    case 'delete':
      return { op: 'delete' };
    case 'replace':
    case 'create-replacement':
    case 'delete-replaced':
    case 'import-replacement':
      return { op: 'replace' };
    case 'import':
      return { op: 'create', reason: 'import an existing resource' };
    default:
      return null;
  }
}

/** `resource/<type>/<name>` for a URN (the name is the URN's last `::` segment). */
export function resourceSubject(type: string, urn: string): string {
  const idx = urn.lastIndexOf('::');
  const name = idx >= 0 ? urn.slice(idx + 2) : urn;
  return `resource/${type}/${name}`;
}

/** The stack name inside a URN (`urn:pulumi:<stack>::<project>::…`). */
function stackOfUrn(urn: string): string {
  const m = /^urn:pulumi:([^:]+)::/.exec(urn);
  return m ? m[1]! : '';
}

function stripColors(s: string): string {
  return s.replace(/<\{%[^%]*%\}>/g, '');
}

function stepOf(event: EngineEventLike, kind: string): StepMetadata | null {
  const body = event[kind] as { metadata?: StepMetadata } | undefined;
  const meta = body?.metadata;
  return meta && typeof meta.urn === 'string' && typeof meta.op === 'string' ? meta : null;
}

/** Progress events for one engine event (none for `same` steps and the stack itself). */
export function progressFor(event: EngineEventLike): ProgressEvent[] {
  for (const [kind, status] of [
    ['resourcePreEvent', 'started'],
    ['resOutputsEvent', 'succeeded'],
    ['resOpFailedEvent', 'failed'],
  ] as const) {
    const meta = stepOf(event, kind);
    if (!meta) continue;
    if (meta.type === STACK_TYPE || meta.op === 'same') return [];
    const words = OP_WORDS[meta.op] ?? [meta.op, meta.op];
    const message = status === 'started' ? words[0] : status === 'succeeded' ? words[1] : `${words[0]} failed`;
    return [{ subject: resourceSubject(meta.type, meta.urn), status, message }];
  }
  return [];
}

interface ChangeEntry {
  subject: string;
  op: Op;
  type: string;
  urn: string;
  reasons: Set<string>;
  before: Record<string, unknown>;
  after: Record<string, unknown>;
  /** Property paths seen, for whole-subject vs property changes. */
  props: Set<string>;
  replaceProps: Set<string>;
  /** The Pulumi command that performs this change on its own (`up`, or `refresh` for drift). */
  verb: 'up' | 'refresh';
}

function addStepDiff(entry: ChangeEntry, meta: StepMetadata): void {
  if (entry.op !== 'update' && entry.op !== 'replace') return;
  const detailed = meta.detailedDiff ?? null;
  const paths = detailed ? Object.keys(detailed) : [...new Set(meta.diffs ?? meta.keys ?? [])];
  for (const path of paths.sort()) {
    const kind = detailed?.[path]?.diffKind;
    const inputDiff = detailed?.[path]?.inputDiff !== false;
    entry.props.add(path);
    if (kind?.endsWith('-replace') || (!detailed && (meta.keys ?? []).includes(path) && entry.op === 'replace')) {
      entry.replaceProps.add(path);
    }
    const steps = parsePropertyPath(path);
    if (!steps) continue;
    const pick = (state: StepState | null | undefined) => {
      const first = inputDiff ? state?.inputs : state?.outputs;
      const second = inputDiff ? state?.outputs : state?.inputs;
      const a = getAtPath(first ?? {}, steps);
      return a.found ? a : getAtPath(second ?? {}, steps);
    };
    if (kind !== 'add' && kind !== 'add-replace' && !(path in entry.before)) {
      const b = pick(meta.old);
      if (b.found) entry.before[path] = displayValue(b.value);
    }
    if (kind !== 'delete' && kind !== 'delete-replace' && !(path in entry.after)) {
      const a = pick(meta.new);
      if (a.found) entry.after[path] = displayValue(a.value);
    }
  }
}

/**
 * The plan lines of one resource: a whole-resource line for creates, deletes and changes
 * without known properties; otherwise one line per changed property (`path`, `before`,
 * `after`), so every plan format shows what changes. Properties that force a replacement say so.
 */
function toChanges(entry: ChangeEntry): Change[] {
  const dataLoss = (entry.op === 'delete' || entry.op === 'replace') && STATEFUL_TYPES.has(entry.type);
  const base = (): Change => ({
    op: entry.op,
    subject: entry.subject,
    dataLoss,
    command: `pulumi ${entry.verb} --stack ${stackOfUrn(entry.urn)} --target '${entry.urn}'`,
  });
  const reasons = [...entry.reasons];
  if (entry.props.size === 0) {
    const change = base();
    if (reasons.length > 0) change.reason = reasons.join('; ');
    return [change];
  }
  return [...entry.props].sort().map((path) => {
    const change = base();
    change.path = path;
    if (path in entry.before) change.before = entry.before[path];
    if (path in entry.after) change.after = entry.after[path];
    const why = entry.replaceProps.has(path) ? ['forces replacement', ...reasons] : reasons;
    if (why.length > 0) change.reason = why.join('; ');
    return change;
  });
}

function sortedRecord(r: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k];
  return out;
}

/**
 * Translates a whole event stream. Pure and deterministic: the same events give the same
 * translation whatever order they arrived in.
 */
export function translateEvents(events: readonly EngineEventLike[]): Translation {
  const ordered = orderEvents(events);
  const entries: ChangeEntry[] = [];
  const byKey = new Map<string, ChangeEntry>();
  const open = new Map<string, { subject: string; count: number; op?: string }>();
  const preOps = new Map<string, Set<string>>();
  const finishedSubjects = new Set<string>();
  const failed: string[] = [];
  const diagnostics: Diagnostic[] = [];
  const seenDiag = new Set<string>();
  const policy: PolicyViolation[] = [];
  const progress: ProgressEvent[] = [];
  let preview = false;
  let summary: Record<string, number> = {};
  let hasSummary = false;
  let summaryResult: string | undefined;
  let maybeCorrupt = false;
  let previousPendingOperations = false;

  const entryFor = (meta: StepMetadata, op: Op, reason?: string, verb: 'up' | 'refresh' = 'up'): ChangeEntry => {
    const subject = resourceSubject(meta.type, meta.urn);
    const key = `${meta.urn}\u0000${op}`;
    let entry = byKey.get(key);
    if (!entry) {
      entry = { subject, op, type: meta.type, urn: meta.urn, reasons: new Set(), before: {}, after: {}, props: new Set(), replaceProps: new Set(), verb };
      byKey.set(key, entry);
      entries.push(entry);
    }
    if (reason) entry.reasons.add(reason);
    return entry;
  };

  // Completions (outputs, failures) seen before their step started: recordings may number a
  // step's outputs event before its pre event. They are reported right after the start.
  const early = new Map<string, ProgressEvent[]>();
  const count = (urn: string): number => open.get(urn)?.count ?? 0;
  /** Counts a step of `meta`'s resource as started (+1) or finished (-1); returns its entry. */
  const countStep = (meta: StepMetadata, by: 1 | -1): { subject: string; count: number; op?: string } => {
    const o = open.get(meta.urn) ?? { subject: resourceSubject(meta.type, meta.urn), count: 0 };
    o.count += by;
    open.set(meta.urn, o);
    return o;
  };

  for (const event of ordered) {
    const startedUrn = stepOf(event, 'resourcePreEvent')?.urn;
    const doneUrn = stepOf(event, 'resOutputsEvent')?.urn ?? stepOf(event, 'resOpFailedEvent')?.urn;
    const stepProgress = progressFor(event);
    if (doneUrn !== undefined && count(doneUrn) <= 0) {
      early.set(doneUrn, [...(early.get(doneUrn) ?? []), ...stepProgress]);
    } else {
      progress.push(...stepProgress);
      const queued = startedUrn !== undefined ? early.get(startedUrn) : undefined;
      if (queued && queued.length > 0) progress.push(queued.shift()!);
    }
    for (const kind of ['resourcePreEvent', 'resOutputsEvent', 'resOpFailedEvent']) {
      const body = event[kind] as { planning?: boolean } | undefined;
      if (body?.planning) preview = true;
    }

    const pre = stepOf(event, 'resourcePreEvent');
    if (pre) {
      countStep(pre, 1).op = pre.op;
      const ops = preOps.get(pre.urn) ?? new Set<string>();
      ops.add(pre.op);
      preOps.set(pre.urn, ops);
      if (pre.type !== STACK_TYPE) {
        const mapped = planOp(pre.op);
        if (mapped) {
          const entry = entryFor(pre, mapped.op, mapped.reason);
          addStepDiff(entry, pre);
        }
      }
    }

    const out = stepOf(event, 'resOutputsEvent');
    if (out) {
      // Counts may go below zero when a step's outputs are numbered before its start.
      countStep(out, -1);
      // A refresh reports drift in its outputs step: the pre step says `refresh`, the outputs
      // step says what the refresh found (`update`: changed outside Pulumi, `delete`: gone).
      const ops = preOps.get(out.urn);
      if (out.type !== STACK_TYPE && ops?.has('refresh') && (out.op === 'update' || out.op === 'delete')) {
        const entry = entryFor(out, out.op, out.op === 'delete' ? 'deleted outside Pulumi' : 'changed outside Pulumi', 'refresh');
        addStepDiff(entry, out);
      }
      finishedSubjects.add(resourceSubject(out.type, out.urn));
    }

    const fail = stepOf(event, 'resOpFailedEvent');
    if (fail) {
      countStep(fail, -1);
      const subject = resourceSubject(fail.type, fail.urn);
      if (!failed.includes(subject)) failed.push(subject);
    }

    const diag = event.diagnosticEvent as { urn?: string; message?: string; severity?: string; ephemeral?: boolean } | undefined;
    if (diag && (diag.severity === 'error' || diag.severity === 'warning') && !diag.ephemeral) {
      const message = stripColors(diag.message ?? '').trim();
      if (/pending operations from previous deployment/i.test(message)) previousPendingOperations = true;
      const key = `${diag.severity}\u0000${message}`;
      if (message && !seenDiag.has(key)) {
        seenDiag.add(key);
        const d: Diagnostic = { severity: diag.severity, message };
        if (diag.urn) d.subject = resourceSubject(urnType(diag.urn), diag.urn);
        diagnostics.push(d);
      }
    }

    const pol = event.policyEvent as
      | { resourceUrn?: string; message?: string; policyName?: string; policyPackName?: string; enforcementLevel?: string }
      | undefined;
    if (pol) {
      const v: PolicyViolation = {
        pack: pol.policyPackName ?? '',
        policy: pol.policyName ?? '',
        level: pol.enforcementLevel ?? 'advisory',
        message: stripColors(pol.message ?? '').trim(),
      };
      if (pol.resourceUrn) v.subject = resourceSubject(urnType(pol.resourceUrn), pol.resourceUrn);
      policy.push(v);
    }

    const sum = event.summaryEvent as
      | { resourceChanges?: Record<string, number>; maybeCorrupt?: boolean; isPreview?: boolean; result?: string }
      | undefined;
    if (sum) {
      hasSummary = true;
      summary = sortedRecord(sum.resourceChanges ?? {}) as Record<string, number>;
      maybeCorrupt = sum.maybeCorrupt === true;
      if (sum.isPreview) preview = true;
      summaryResult = sum.result;
    }
  }

  for (const queued of early.values()) progress.push(...queued);
  const pendingEntries = preview ? [] : [...open.entries()].filter(([, o]) => o.count > 0 && !o.subject.startsWith(`resource/${STACK_TYPE}/`));
  const pending = pendingEntries.map(([, o]) => o.subject);
  const pendingSteps = pendingEntries.map(([urn, o]) => ({ urn, op: o.op ?? 'unknown' }));
  const changes = entries.flatMap(toChanges);
  const completed = changes.map((c) => c.subject).filter((s, i, all) => all.indexOf(s) === i && finishedSubjects.has(s) && !pending.includes(s) && !failed.includes(s));

  let outcome: Translation['outcome'] = 'succeeded';
  const policyFailed = policy.some((p) => p.level === 'mandatory');
  const errored = diagnostics.some((d) => d.severity === 'error');
  if (summaryResult === 'failed' || failed.length > 0 || policyFailed || errored) outcome = 'failed';
  else if (pending.length > 0 || !hasSummary) outcome = 'interrupted';

  return {
    preview,
    changes,
    completed,
    progress,
    summary,
    outcome,
    maybeCorrupt,
    pending,
    pendingSteps,
    failed,
    diagnostics,
    policy,
    previousPendingOperations,
  };
}

function urnType(urn: string): string {
  // urn:pulumi:<stack>::<project>::<qualified type>::<name>; the qualified type may be
  // `parent$child` for resources nested in components: the resource's own type is the last part.
  const parts = urn.split('::');
  const qualified = parts.length >= 4 ? parts[2]! : '';
  const segs = qualified.split('$');
  return segs[segs.length - 1] ?? qualified;
}

/** The last lines of the run's error diagnostics, short enough for an error's `data.tail`. */
export function errorTail(t: Translation, maxLines = 12, maxChars = 2000): string {
  const lines: string[] = [];
  for (const d of t.diagnostics) {
    if (d.severity !== 'error') continue;
    for (const line of d.message.split('\n')) if (line.trim()) lines.push(d.subject ? `${d.subject}: ${line.trim()}` : line.trim());
  }
  for (const subject of t.failed) {
    if (!t.diagnostics.some((d) => d.severity === 'error' && d.subject === subject)) lines.push(`${subject}: the resource operation failed`);
  }
  for (const p of t.policy) if (p.level === 'mandatory') lines.push(`policy ${p.pack}/${p.policy}${p.subject ? ` on ${p.subject}` : ''}: ${p.message}`);
  const tail = lines.slice(-maxLines).join('\n');
  return tail.length > maxChars ? '…' + tail.slice(tail.length - maxChars) : tail;
}
