import { splitPointer, type SchemaProblem } from '../schema/messages.js';
import { isPlainObject } from './merge-patch.js';

/** At most this many rounds of removing invalid parts and validating again. */
const MAX_ROUNDS = 8;

/**
 * The well-formed part of a document whose spec failed its schema: the document with every
 * invalid part removed (an unknown field, a bad value, a list item that is wrong), validated
 * again so defaults are filled in. Cross-reference checks (links, `after:`, excludes, overrides)
 * run on it, so a schema error does not hide them; no model is ever built from it.
 *
 * List items that are removed leave a hole at their index (a sparse array: `forEach` skips
 * it), so the positions of the items that stay are still those of the document.
 * Returns undefined when what is left is no usable spec (the spec itself is the problem).
 */
export function salvage(value: unknown, problems: SchemaProblem[], check: (v: unknown) => SchemaProblem[]): unknown {
  const copy = structuredClone(value);
  /** Lists that lost items → the original index of each remaining item, and the original length. */
  const removed = new Map<unknown[], { indices: number[]; length: number }>();
  let current = problems;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    // Deepest pointers first, and list items from the highest index, so removals do not move
    // the targets of the removals still to do.
    const targets = [...new Set(current.map((p) => p.pointer))].sort(byDepthThenIndexDesc);
    for (const pointer of targets) if (!removeAt(copy, splitPointer(pointer), removed)) return undefined;
    current = check(copy);
    if (current.length === 0) {
      for (const [list, { indices, length }] of removed) {
        const items = list.slice();
        list.length = 0;
        list.length = length;
        items.forEach((item, k) => (list[indices[k]!] = item));
      }
      return copy;
    }
  }
  return undefined;
}

function byDepthThenIndexDesc(a: string, b: string): number {
  const sa = splitPointer(a);
  const sb = splitPointer(b);
  if (sa.length !== sb.length) return sb.length - sa.length;
  const la = Number(sa[sa.length - 1]);
  const lb = Number(sb[sb.length - 1]);
  if (Number.isInteger(la) && Number.isInteger(lb)) return lb - la;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Removes the value at `segments`; false when that would remove the spec or the document itself. */
function removeAt(root: unknown, segments: string[], removed: Map<unknown[], { indices: number[]; length: number }>): boolean {
  // Only parts inside the spec can go: an envelope problem means there is nothing to check.
  if (segments[0] !== 'spec' || segments.length < 2) return false;
  let node: unknown = root;
  for (let i = 0; i < segments.length - 1; i++) {
    const seg = segments[i]!;
    if (Array.isArray(node)) node = node[Number(seg)];
    else if (isPlainObject(node)) node = node[seg];
    else return true; // already gone with a parent
  }
  const last = segments[segments.length - 1]!;
  if (Array.isArray(node)) {
    const index = Number(last);
    if (!Number.isInteger(index) || index < 0 || index >= node.length) return true;
    let entry = removed.get(node);
    if (!entry) {
      entry = { indices: node.map((_, k) => k), length: node.length };
      removed.set(node, entry);
    }
    node.splice(index, 1);
    entry.indices.splice(index, 1);
  } else if (isPlainObject(node)) {
    delete node[last];
  }
  return true;
}
