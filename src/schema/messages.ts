import type { ErrorObject } from 'ajv';
import { didYouMean, quotedList } from './suggest.js';
import { cronProblem } from './cron.js';

/** One schema problem: where (JSON pointer into the validated value) and what to do. */
export interface SchemaProblem {
  pointer: string;
  message: string;
  /** `key`: the problem is the property name itself (point at the key, not its value). */
  at?: 'key';
  /** Required errors: the missing property (the pointer names its parent object). */
  missing?: string;
}

/** Escapes one JSON pointer segment (RFC 6901). */
export function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Splits a JSON pointer into unescaped segments. */
export function splitPointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * Turns ajv's errors into messages a person can act on: the field's name, what it must be,
 * what it is, and a suggestion for misspelt names. Union (`anyOf`) errors are reduced to the
 * branch the value was evidently meant for. Sorted by pointer, duplicates dropped.
 */
export function humanize(errors: ErrorObject[]): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const skip = unionNoise(errors);
  // Out of range is the first thing to fix; "a multiple of" on top of it is noise.
  const outOfRange = new Set(errors.filter((e) => e.keyword === 'minimum' || e.keyword === 'maximum').map((e) => e.instancePath));
  for (const e of errors) if (e.keyword === 'multipleOf' && outOfRange.has(e.instancePath)) skip.add(e);
  for (const e of errors) {
    if (skip.has(e)) continue;
    const p = translate(e);
    if (p) problems.push(p);
  }
  const seen = new Set<string>();
  return problems
    .filter((p) => {
      const k = `${p.pointer}\u0000${p.message}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .sort((a, b) => (a.pointer < b.pointer ? -1 : a.pointer > b.pointer ? 1 : a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
}

/** Errors hidden by union handling: branches the value was not meant for, or all branches. */
function unionNoise(errors: ErrorObject[]): Set<ErrorObject> {
  const skip = new Set<ErrorObject>();
  for (const e of errors) {
    if (e.keyword === 'if') skip.add(e);
    if (e.keyword !== 'anyOf' && e.keyword !== 'oneOf') continue;
    const branches = e.schema as { type?: string }[];
    const kind = jsonType(e.data);
    let matching = branches.map((b, i) => ({ b, i })).filter(({ b }) => typeMatches(b.type, kind));
    if (matching.length > 1 && kind === 'object') {
      // Object branches told apart by their required keys ({ email } vs { webhook }).
      const data = e.data as Record<string, unknown>;
      const byKeys = matching.filter(({ b }) => ((b as { required?: string[] }).required ?? []).every((k) => k in data));
      if (byKeys.length === 1) matching = byKeys;
    }
    const prefix = e.schemaPath + '/';
    const subs = errors.filter((x) => x !== e && x.schemaPath.startsWith(prefix) && x.instancePath.startsWith(e.instancePath));
    if (matching.length === 1) {
      // The value is evidently meant for one branch: report that branch's problems only.
      const keep = prefix + matching[0]!.i + '/';
      for (const x of subs) if (!x.schemaPath.startsWith(keep)) skip.add(x);
      if (subs.some((x) => x.schemaPath.startsWith(keep))) skip.add(e);
    } else {
      for (const x of subs) skip.add(x);
    }
  }
  return skip;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(type: string | string[] | undefined, kind: string): boolean {
  if (type === undefined) return false;
  const types = Array.isArray(type) ? type : [type];
  return types.includes(kind) || (kind === 'integer' && types.includes('number'));
}

/** The name a message starts with: the last property name of the pointer (`port`, `links[0]`). */
function fieldName(pointer: string): string {
  const parts = splitPointer(pointer);
  const last = parts[parts.length - 1];
  if (last === undefined) return 'the document';
  if (/^\d+$/.test(last)) {
    const parent = parts[parts.length - 2];
    return parent === undefined ? `item ${last}` : `${parent}[${last}]`;
  }
  return last;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  null: 'null',
};

/** Describes a value for "got …" without ever echoing long text. */
export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing (null)';
  if (Array.isArray(v)) return 'a list';
  if (ArrayBuffer.isView(v)) return 'binary data';
  if (typeof v === 'object') {
    if (isSecretLike(v)) return 'a {secret: …} reference';
    const keys = Object.keys(v);
    return keys.length === 0 ? 'an empty mapping' : `a mapping with ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', …' : ''}`;
  }
  if (typeof v === 'string') {
    // Never echo what may be a credential: URLs with a user part, long strings.
    if (/^[a-z][a-z0-9+.-]*:\/\/[^/\s]*@/i.test(v)) return 'a URL with credentials (not shown)';
    return v.length > 40 ? `a string of ${v.length} characters` : JSON.stringify(v);
  }
  return String(v);
}

function isSecretLike(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'secret' in v;
}

function translate(e: ErrorObject): SchemaProblem | undefined {
  const at = e.instancePath;
  const name = fieldName(at);
  const parent = e.parentSchema as Record<string, unknown> | undefined;
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required': {
      const missing = String(params.missingProperty);
      return { pointer: at, missing, message: `missing required field "${missing}"${requiredHint(at, missing)}` };
    }
    case 'additionalProperties': {
      const prop = String(params.additionalProperty);
      const known = Object.keys((parent?.properties as object | undefined) ?? {});
      const hint = didYouMean(prop, known);
      return {
        pointer: `${at}/${escapePointer(prop)}`,
        at: 'key',
        message: `unknown field "${prop}"${hint || (known.length ? `; known fields: ${quotedList(known)}` : '; no fields are allowed here')}`,
      };
    }
    case 'propertyNames':
      return undefined; // reported through the inner errors, which carry `propertyName`
    case 'type': {
      const expected = String(params.type)
        .split(',')
        .map((t) => TYPE_NAMES[t] ?? t)
        .join(' or ');
      if (isSecretLike(e.data)) {
        return { pointer: at, message: `${name} must be ${expected}: {secret: …} is only allowed as an app env value; write the value here or move it to env` };
      }
      if (typeof parent?.errorMessage === 'string') return { pointer: at, message: `${name} ${parent.errorMessage}, got ${describe(e.data)}` };
      const quote = params.type === 'string' && (typeof e.data === 'number' || typeof e.data === 'boolean') ? `; put it in quotes: "${String(e.data)}"` : '';
      return { pointer: at, message: `${name} must be ${expected}, got ${describe(e.data)}${quote}` };
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      const key = (e as { propertyName?: string }).propertyName;
      if (key !== undefined) return undefined;
      const hint = typeof e.data === 'string' ? didYouMean(e.data, allowed) : '';
      return { pointer: at, message: `${name} must be one of ${quotedList(allowed)}, got ${describe(e.data)}${hint}` };
    }
    case 'const':
      return { pointer: at, message: `${name} must be ${JSON.stringify(params.allowedValue)}, got ${describe(e.data)}` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const op = { minimum: '≥', maximum: '≤', exclusiveMinimum: '>', exclusiveMaximum: '<' }[e.keyword];
      return { pointer: at, message: `${name} must be ${op} ${String(params.limit)}, got ${describe(e.data)}` };
    }
    case 'multipleOf': {
      const m = Number(params.multipleOf);
      const v = Number(e.data);
      const lo = Math.max(m, Math.floor(v / m) * m);
      return { pointer: at, message: `${name} must be a multiple of ${m}, got ${v}; e.g. ${lo} or ${lo + m}` };
    }
    case 'minLength':
      return Number(params.limit) <= 1
        ? { pointer: at, message: `${name} must not be empty` }
        : { pointer: at, message: `${name} must be at least ${String(params.limit)} characters, got ${describe(e.data)}` };
    case 'maxLength':
      return { pointer: at, message: `${name} must be at most ${String(params.limit)} characters, got ${String((e.data as string).length)}` };
    case 'minItems':
      return { pointer: at, message: `${name} must not be empty` };
    case 'maxItems':
      return { pointer: at, message: `${name} must have at most ${String(params.limit)} items` };
    case 'uniqueItems': {
      const list = e.data as unknown[];
      return { pointer: `${at}/${String(params.i)}`, message: `${name} lists ${describe(list[Number(params.i)])} twice; remove one` };
    }
    case 'minProperties':
      return { pointer: at, message: `${name} must not be empty` };
    case 'format': {
      const what =
        params.format === 'email' ? 'an e-mail address'
        : params.format === 'uri' ? 'a URL'
        : params.format === 'cron' ? `a cron expression of five fields (minute hour day-of-month month day-of-week) such as "*/15 * * * *"${cronProblem(e.data)}`
        : params.format === 'timezone' ? 'an IANA time zone such as Europe/Berlin or UTC'
        : `a valid ${String(params.format)}`;
      return { pointer: at, message: `${name} must be ${what}, got ${describe(e.data)}` };
    }
    case 'pattern': {
      const key = (e as { propertyName?: string }).propertyName;
      const msg = (parent?.patternErrorMessage as string | undefined) ?? `must match ${String(params.pattern)}`;
      if (key !== undefined) {
        return { pointer: `${at}/${escapePointer(key)}`, at: 'key', message: `${keyKind(at)} "${key}" ${msg}` };
      }
      return { pointer: at, message: `${name} ${msg}, got ${describe(e.data)}` };
    }
    case 'not': {
      const key = (e as { propertyName?: string }).propertyName;
      if (key !== undefined) {
        return {
          pointer: `${at}/${escapePointer(key)}`,
          at: 'key',
          message: `${keyKind(at)} "${key}" is reserved (set by the platform); use another name`,
        };
      }
      const sub = e.schema as { required?: string[] };
      const msg = (parent?.errorMessage as string | undefined) ?? `${name} is not allowed here`;
      if (sub.required?.length === 1) return { pointer: `${at}/${escapePointer(sub.required[0]!)}`, at: 'key', message: msg };
      return { pointer: at, message: msg };
    }
    case 'anyOf':
    case 'oneOf': {
      const msg = (parent?.errorMessage as string | undefined) ?? 'does not have any of the allowed shapes';
      return { pointer: at, message: `${name} ${msg}, got ${describe(e.data)}` };
    }
    default:
      return { pointer: at, message: `${name} ${e.message ?? 'is invalid'}` };
  }
}

function keyKind(pointer: string): string {
  const parts = splitPointer(pointer);
  const last = parts[parts.length - 1];
  if (last === 'env') return 'env key';
  if (last === 'stages') return 'stage name';
  return 'key';
}

function requiredHint(pointer: string, missing: string): string {
  if (pointer === '/metadata' && missing === 'project') return '; name the project this belongs to';
  if (pointer === '/metadata' && missing === 'name') return '; every manifest needs a name';
  if (pointer === '' && missing === 'spec') return '; add a spec';
  if (pointer === '' && missing === 'apiVersion') return '; add apiVersion: setopsd/v1';
  if (pointer === '/spec' && missing === 'aws') return '; provider aws needs aws.region';
  return '';
}
