import { canonicalJson } from '../model/canonical.js';

/** One changed leaf: a dot path and the values before and after (`undefined`: absent). */
export interface LeafChange {
  path: string;
  before: unknown;
  after: unknown;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
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
