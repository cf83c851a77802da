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
 * (`summaryEvent.resourceChanges`); null for steps Pulumi does not count: default providers, the
 * parts of a replacement other than its `replace` step, a refresh that found nothing.
 */
export function countedOp(meta: StepMetadata, refreshed: boolean): string | null {
  if (isDefaultProvider(meta.type, meta.urn)) return null;
  if (meta.op === 'create-replacement' || meta.op === 'delete-replaced' || meta.op === 'import-replacement') return null;
  if (meta.op === 'refresh') return null;
  if (refreshed && meta.op !== 'update' && meta.op !== 'delete') return null;
  return meta.op;
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
