import AjvModule from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { isCronExpression, isTimeZone } from './cron.js';
import { KIND_SCHEMAS, appSpecSchema, serviceSpecSchema, type Kind } from './kinds.js';
import { humanize, type SchemaProblem } from './messages.js';

export type { SchemaProblem } from './messages.js';

/** Validates one value against one schema, filling in defaults (mutates `value`). */
export type Check = (value: unknown) => SchemaProblem[];

/** The compiled validators of every kind and of the per-stage merged specs. */
export interface Validators {
  /** A whole document of `kind` (envelope, metadata, spec). */
  document(kind: Kind, value: unknown): SchemaProblem[];
  /** A merged App spec (base + stage override). Pointers are relative to the spec. */
  appSpec: Check;
  /** A merged Service spec (base + stage override). Pointers are relative to the spec. */
  serviceSpec: Check;
}

// ajv and ajv-formats are CommonJS with `exports.default`; take the constructor either way.
const Ajv = ((AjvModule as unknown as { default?: typeof AjvModule }).default ?? AjvModule) as unknown as typeof AjvModule.default;
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ??
  addFormatsModule) as unknown as typeof addFormatsModule.default;

/**
 * Compiles every schema once with ajv (all errors, defaults filled in, formats). Compiling takes
 * tens of milliseconds, so callers keep the result: `loadDesired` uses `sharedValidators()`.
 */
export function compileValidators(): Validators {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, verbose: true, strict: true, strictRequired: false, strictTuples: false, allowUnionTypes: true });
  addFormats(ajv, ['email', 'uri']);
  ajv.addFormat('cron', isCronExpression);
  ajv.addFormat('timezone', isTimeZone);
  // Editor extensions (VS Code, yaml-language-server), used for our own messages too.
  ajv.addKeyword({ keyword: 'errorMessage', schemaType: 'string' });
  ajv.addKeyword({ keyword: 'patternErrorMessage', schemaType: 'string' });
  const documents = new Map<Kind, ValidateFunction>();
  for (const [kind, schema] of Object.entries(KIND_SCHEMAS)) documents.set(kind as Kind, ajv.compile(schema));
  const app = ajv.compile(specRoot(appSpecSchema, 'setopsd:app-spec'));
  const service = ajv.compile(specRoot(serviceSpecSchema, 'setopsd:service-spec'));
  const run = (fn: ValidateFunction, value: unknown): SchemaProblem[] =>
    fn(value) ? [] : humanize(fn.errors as ErrorObject[]);
  return {
    document: (kind, value) => run(documents.get(kind)!, value),
    appSpec: (value) => run(app, value),
    serviceSpec: (value) => run(service, value),
  };
}

/** A spec schema as a root schema (a root has no `default`). */
function specRoot(schema: object, $id: string): object {
  const { default: _ignored, ...rest } = schema as { default?: unknown };
  return { ...rest, $id };
}

// Compiled validators are immutable code (no per-call state survives a call), so one compiled
// set is shared the way a RegExp constant would be: compiled lazily on first use.
let shared: Validators | undefined;

/** The process-wide compiled validators (compiled on first use). */
export function sharedValidators(): Validators {
  shared ??= compileValidators();
  return shared;
}
