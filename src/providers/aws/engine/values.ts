/**
 * Rendering Pulumi property values for plans and logs: secrets and unknowns are shown as such,
 * never as their value, and long strings are shortened so a plan line stays readable.
 */

/** Signature key Pulumi puts on special values (secrets, assets, archives, resource references). */
export const SIG_KEY = '4dabf18193072939515e22adb298388d';
/** Signature of a secret value (`{[SIG_KEY]: SECRET_SIG, ciphertext | value}`). */
export const SECRET_SIG = '1b47061264138c4ac30d75fd1eb44270';
/** The string Pulumi uses for values not known until apply (computed outputs during a preview). */
export const UNKNOWN_SENTINEL = '04da6b54-80e4-46f7-96ec-b56ff0331ba9';

/** How a secret appears in plans. */
export const SECRET_TEXT = '(secret)';
/** How an unknown (computed) value appears in plans. */
export const UNKNOWN_TEXT = '(known after apply)';

const MAX_STRING = 200;

/** True for a Pulumi secret envelope (encrypted or, with `--show-secrets`, plaintext). */
export function isSecretValue(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/**
 * A copy of a property value safe to show: secrets → `(secret)`, unknowns → `(known after apply)`,
 * Pulumi's `__defaults` bookkeeping dropped, object keys sorted, long strings shortened.
 */
export function displayValue(v: unknown): unknown {
  if (v === UNKNOWN_SENTINEL) return UNKNOWN_TEXT;
  if (typeof v === 'string') return v.length > MAX_STRING ? `${v.slice(0, MAX_STRING)}… (${v.length} chars)` : v;
  if (Array.isArray(v)) return v.map(displayValue);
  if (v !== null && typeof v === 'object') {
    if (isSecretValue(v)) return SECRET_TEXT;
    const obj = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(obj).sort()) {
      if (key === '__defaults') continue;
      out[key] = displayValue(obj[key]);
    }
    return out;
  }
  return v;
}

/** One step of a property path: an object key or an array index. */
export type PathStep = string | number;

/**
 * Parses a Pulumi property path as used in `detailedDiff` keys:
 * `ingress[1].cidrBlocks[0]`, `tags["Name"]`, `a.b`. Returns null when it cannot be parsed.
 */
export function parsePropertyPath(path: string): PathStep[] | null {
  const steps: PathStep[] = [];
  let i = 0;
  let expectKey = true;
  while (i < path.length) {
    const ch = path[i];
    if (ch === '[') {
      const close = path.indexOf(']', i);
      if (close < 0) return null;
      const inner = path.slice(i + 1, close);
      if (/^\d+$/.test(inner)) steps.push(Number(inner));
      else if (inner.startsWith('"') && inner.endsWith('"') && inner.length >= 2) {
        try {
          steps.push(JSON.parse(inner) as string);
        } catch {
          return null;
        }
      } else if (inner === '*') steps.push('*');
      else return null;
      i = close + 1;
      expectKey = false;
    } else if (ch === '.') {
      i++;
      expectKey = true;
    } else {
      if (!expectKey && steps.length > 0) return null;
      let j = i;
      while (j < path.length && path[j] !== '.' && path[j] !== '[') j++;
      steps.push(path.slice(i, j));
      i = j;
      expectKey = false;
    }
  }
  return steps.length > 0 ? steps : null;
}

/** The value at `steps` inside `root`; `found: false` when a step is missing (or crosses a secret). */
export function getAtPath(root: unknown, steps: PathStep[]): { found: boolean; value?: unknown } {
  let cur: unknown = root;
  for (const step of steps) {
    if (isSecretValue(cur)) return { found: true, value: cur };
    if (typeof step === 'number') {
      if (!Array.isArray(cur) || step >= cur.length) return { found: false };
      cur = cur[step];
    } else {
      if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return { found: false };
      if (!Object.prototype.hasOwnProperty.call(cur, step)) return { found: false };
      cur = (cur as Record<string, unknown>)[step];
    }
  }
  return { found: true, value: cur };
}
