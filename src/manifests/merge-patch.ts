/**
 * RFC 7396 JSON Merge Patch. Returns a new value; neither input is modified, and no object of
 * the result is shared with `patch` (values from the patch are copied), so callers may mutate
 * the result (ajv fills in defaults) without touching the manifests.
 *
 * - a patch that is not an object replaces the target (arrays are replaced, never merged);
 * - `null` in a patch object removes the key;
 * - objects merge key by key, recursively.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return copy(patch);
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/** True for `{…}` values (not arrays, not null). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep copy of a JSON value. */
export function copy<T>(v: T): T {
  if (Array.isArray(v)) return v.map(copy) as T;
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) out[k] = copy(v[k]);
    return out as T;
  }
  return v;
}
