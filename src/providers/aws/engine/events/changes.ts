/**
 * Resource steps → plan lines. A replacement's create-replacement / replace / delete-replaced
 * steps collapse into one `replace` line; changed properties come from `detailedDiff` (falling
 * back to `diffs`, then `keys`); secrets show as `(secret)` and preview unknowns as
 * `(known after apply)` (values.ts).
 */
import type { Change, Op } from '../../../../model/changeset.js';
import { displayValue, getAtPath, parsePropertyPath } from '../values.js';
import { resourceSubject, stackOfUrn } from './steps.js';
import type { StepMetadata, StepState } from './types.js';

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

/** The Pulumi command that performs a change on its own (`up`, or `refresh` for drift). */
export type ChangeVerb = 'up' | 'refresh';

/** What the steps of one resource and plan operation say so far. */
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
  verb: ChangeVerb;
  /** Nothing stored is lost: the old resource stays in AWS (`retainOnDelete`), or the step only cleans up a replaced one. */
  retained: boolean;
  /** Steps recorded: a refresh may delete several state entries under one URN, and Pulumi counts each. */
  steps: number;
}

/** The plan lines of a run, collected per resource and operation in the order first seen. */
export class ChangeLog {
  private readonly entries: ChangeEntry[] = [];
  private readonly byKey = new Map<string, ChangeEntry>();
  /** Old URN → new URN of resources replaced or updated under an alias (a rename, a new parent). */
  private readonly aliases = new Map<string, string>();

  /** The URN a step's change is filed under: the new URN of an aliased resource. */
  private urnOf(meta: StepMetadata): string {
    const oldUrn = meta.old?.urn;
    if (oldUrn && oldUrn !== meta.urn && meta.op !== 'delete-replaced' && meta.op !== 'delete') this.aliases.set(oldUrn, meta.urn);
    return this.aliases.get(meta.urn) ?? meta.urn;
  }

  /** A change with `op` is recorded for the resource of `meta` (under its new URN when aliased). */
  has(meta: StepMetadata, op: Op): boolean {
    return this.byKey.has(`${this.aliases.get(meta.urn) ?? meta.urn}\u0000${op}`);
  }

  /** Records a step as (part of) the `op` change of its resource, with its reason and changed properties. */
  record(meta: StepMetadata, op: Op, reason?: string, verb: ChangeVerb = 'up', dataLoss = true): void {
    const urn = this.urnOf(meta);
    const key = `${urn}\u0000${op}`;
    let entry = this.byKey.get(key);
    if (!entry) {
      const subject = resourceSubject(meta.type, urn);
      entry = { subject, op, type: meta.type, urn, reasons: new Set(), before: {}, after: {}, props: new Set(), replaceProps: new Set(), verb, retained: false, steps: 0 };
      this.byKey.set(key, entry);
      this.entries.push(entry);
    }
    entry.steps++;
    if (!dataLoss) entry.retained = true;
    if (reason) entry.reasons.add(reason);
    if (op === 'delete' || op === 'replace') {
      const kept = whatDeleteKeeps(meta.old);
      if (kept) entry.reasons.add(kept);
      if (meta.old?.retainOnDelete === true) entry.retained = true;
    }
    addStepDiff(entry, meta);
  }

  /** The plan lines, in step order. */
  changes(): Change[] {
    return this.entries.flatMap(toChanges);
  }
}

/**
 * What survives the deletion of the old resource, as a plan reason: it is retained in AWS, or a
 * final snapshot (RDS, DocumentDB: unless `skipFinalSnapshot`; ElastiCache) is kept.
 */
function whatDeleteKeeps(old: StepState | null | undefined): string | null {
  if (!old) return null;
  if (old.retainOnDelete === true) return 'retained in AWS (retainOnDelete): Pulumi forgets it, its data stays';
  const inputs = old.inputs ?? {};
  const id = inputs.finalSnapshotIdentifier;
  if (typeof id === 'string' && id !== '' && inputs.skipFinalSnapshot !== true) return `final snapshot ${id} is kept`;
  return null;
}

/** Adds the changed properties of an update or replace step, with their values before and after. */
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
  const dataLoss = (entry.op === 'delete' || entry.op === 'replace') && STATEFUL_TYPES.has(entry.type) && !entry.retained;
  const base = (): Change => ({
    op: entry.op,
    subject: entry.subject,
    dataLoss,
    command: `pulumi ${entry.verb} --stack ${stackOfUrn(entry.urn)} --target '${entry.urn}'`,
  });
  const reasons = [...entry.reasons].map((r) => (entry.verb === 'refresh' && entry.steps > 1 ? `${r} (${entry.steps} state entries)` : r));
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
