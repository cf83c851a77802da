/** Reading resource steps out of engine events: step metadata, subjects, URNs, plan operations. */
import type { Op } from '../../../../model/changeset.js';
import type { EngineEventLike, StepMetadata } from './types.js';

/** The stack resource: never a plan line, a pending operation or a progress subject. */
export const STACK_TYPE = 'pulumi:pulumi:Stack';

/** The event kinds that carry a resource step: its start, its outputs (done), its failure. */
export type StepEventKind = 'resourcePreEvent' | 'resOutputsEvent' | 'resOpFailedEvent';

/** Every `StepEventKind`, in the order of a step's life. */
export const STEP_EVENT_KINDS: readonly StepEventKind[] = ['resourcePreEvent', 'resOutputsEvent', 'resOpFailedEvent'];

/** The step metadata of `event` under `kind`; null when absent or without a URN and op. */
export function stepOf(event: EngineEventLike, kind: StepEventKind): StepMetadata | null {
  const body = event[kind] as { metadata?: StepMetadata } | undefined;
  const meta = body?.metadata;
  return meta && typeof meta.urn === 'string' && typeof meta.op === 'string' ? meta : null;
}

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

/**
 * A default provider (`pulumi:providers:<pkg>::default…`): the engine's own bookkeeping, neither
 * a change nor counted by Pulumi.
 */
export function isDefaultProvider(type: string, urn: string): boolean {
  return type.startsWith('pulumi:providers:') && urn.slice(urn.lastIndexOf('::') + 2).startsWith('default');
}

/**
 * The op a finished (or, in a preview, planned) step adds to Pulumi's resource counts
 * (`summaryEvent.resourceChanges`); null for steps Pulumi does not count. Pulumi's rule
 * (`pkg/engine/update.go`, `OnResourceStepPost` of both the update and the preview actions:
 * count when `record && !isInternalStep(step)`):
 * - internal steps are never counted: default providers, `remove-pending-replace`,
 *   `extend-parameterize`;
 * - `record` is the step's `Logical()` (the event's `logical`): the parts of a replacement other
 *   than its `replace` step (`create-replacement`, `delete-replaced`, `read-replacement`,
 *   `import-replacement`, `discard-replaced`) and a refresh within an update are not logical;
 * - a `read` is counted only when it changed the outputs it had (`shouldRecordReadStep`);
 * - in a `refresh` the op counted is the refresh's result (`ResultOp`, the op of its outputs
 *   event: `same`, `update`, `delete`); a refresh inside an update reports `refresh` there,
 *   which is not counted.
 */
export function countedOp(meta: StepMetadata, refreshed: boolean): string | null {
  if (isDefaultProvider(meta.type, meta.urn)) return null;
  if (NOT_LOGICAL.has(meta.op) || INTERNAL.has(meta.op)) return null;
  if (meta.op === 'refresh') return null;
  if (refreshed) return meta.op;
  if (meta.logical === false) return null;
  if (meta.op === 'read') return readChanged(meta) ? 'read' : null;
  return meta.op;
}

const NOT_LOGICAL = new Set(['create-replacement', 'delete-replaced', 'read-replacement', 'import-replacement', 'discard-replaced']);
const INTERNAL = new Set(['remove-pending-replace', 'extend-parameterize']);

/** Pulumi's `shouldRecordReadStep`: a read with old and new outputs that differ. */
function readChanged(meta: StepMetadata): boolean {
  const before = meta.old?.outputs;
  const after = meta.new?.outputs;
  return before != null && after != null && !sameValue(before, after);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/**
 * Whether a step of an update reports no `resOutputsEvent` when it finishes: Pulumi sends one
 * only for custom resources, deletes, refreshes and views (`OnResourceStepPost`), so a component
 * resource's create, update or same is done without one — it counts when it starts (and stops
 * counting when it fails).
 */
export function finishesSilently(meta: StepMetadata): boolean {
  const res = meta.new ?? meta.old;
  if (!res || res.custom === true || (res as { viewOf?: string }).viewOf) return false;
  return meta.op !== 'delete' && meta.op !== 'refresh' && meta.op !== 'delete-replaced' && meta.op !== 'discard' && meta.op !== 'discard-replaced';
}

/** The stack name inside a URN (`urn:pulumi:<stack>::<project>::…`). */
export function stackOfUrn(urn: string): string {
  const m = /^urn:pulumi:([^:]+)::/.exec(urn);
  return m ? m[1]! : '';
}

/** The resource's own type in a URN (for resources nested in components, the last `$` part). */
export function urnType(urn: string): string {
  // urn:pulumi:<stack>::<project>::<qualified type>::<name>; the qualified type may be
  // `parent$child` for resources nested in components: the resource's own type is the last part.
  const parts = urn.split('::');
  const qualified = parts.length >= 4 ? parts[2]! : '';
  const segs = qualified.split('$');
  return segs[segs.length - 1] ?? qualified;
}
