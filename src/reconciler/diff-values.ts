import { isPlainObject } from '../manifests/merge-patch.js';
import { canonicalJson } from '../model/canonical.js';
import type { Change } from '../model/changeset.js';
import { makeChange } from './change.js';
import { andThen } from './setops-command.js';

/** One changed leaf: a dot path and the values before and after (`undefined`: absent). */
export interface LeafChange {
  path: string;
  before: unknown;
  after: unknown;
}

/** Equality of JSON values, independent of key order. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return canonicalJson(a) === canonicalJson(b);
}

/**
 * The changed leaves between two JSON values, sorted by path. Plain objects are walked key by
 * key (a key present on one side only is a leaf change with the other side absent); arrays and
 * scalars are leaves. Keys listed in `leafKeys` (dot paths) are compared whole.
 */
export function leafDiff(before: unknown, after: unknown, prefix = '', leafKeys: ReadonlySet<string> = new Set()): LeafChange[] {
  const out: LeafChange[] = [];
  walk(before, after, prefix, leafKeys, out);
  return out;
}

function walk(before: unknown, after: unknown, path: string, leafKeys: ReadonlySet<string>, out: LeafChange[]): void {
  if (isPlainObject(before) && isPlainObject(after) && !leafKeys.has(path)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const key of keys) walk(before[key], after[key], path === '' ? key : `${path}.${key}`, leafKeys, out);
    return;
  }
  if (!sameValue(before, after)) out.push({ path, before, after });
}

/** Keys of two keyed maps split into added, removed and common, each sorted. */
export function pairKeys(before: Record<string, unknown> | undefined, after: Record<string, unknown> | undefined): {
  added: string[];
  removed: string[];
  common: string[];
} {
  const b = before ?? {};
  const a = after ?? {};
  const added: string[] = [];
  const removed: string[] = [];
  const common: string[] = [];
  for (const key of Object.keys(a).sort()) (Object.prototype.hasOwnProperty.call(b, key) ? common : added).push(key);
  for (const key of Object.keys(b).sort()) if (!Object.prototype.hasOwnProperty.call(a, key)) removed.push(key);
  return { added, removed, common };
}

/** How `diffKeyed` names the subjects of a keyed map and the SetOps commands that create and destroy one. */
export interface KeyedSubjects<T> {
  subject(key: string): string;
  create(key: string, model: T): string;
  destroy(key: string): string;
}

/**
 * Changes of a keyed map of small subjects that SetOps cannot edit in place (links, domains,
 * notifications): `create` for added keys, `delete` for removed ones, and for a changed one an
 * `update` per changed field whose command destroys and re-creates it.
 */
export function diffKeyed<T>(desired: Record<string, T>, actual: Record<string, T>, how: KeyedSubjects<T>): Change[] {
  const out: Change[] = [];
  const { added, removed, common } = pairKeys(actual, desired);
  for (const key of added) out.push(makeChange({ op: 'create', subject: how.subject(key), command: how.create(key, desired[key]!) }));
  for (const key of removed) out.push(makeChange({ op: 'delete', subject: how.subject(key), command: how.destroy(key) }));
  for (const key of common) {
    const command = andThen(how.destroy(key), how.create(key, desired[key]!));
    for (const f of leafDiff(actual[key], desired[key])) {
      out.push(makeChange({ op: 'update', subject: how.subject(key), path: f.path, before: f.before, after: f.after, command }));
    }
  }
  return out;
}
