import { createRequire } from 'node:module';
import type AjvModule from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type addFormatsModule from 'ajv-formats';
import { hashOf } from '../model/canonical.js';
import { customFormats } from './custom-formats.js';
import { KIND_SCHEMAS, appSpecSchema, serviceSpecSchema, type Kind } from './kinds.js';
import { humanize, type SchemaProblem } from './messages.js';
import * as precompiled from './validators.generated.js';

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

type AjvClass = typeof AjvModule.default;
const require = createRequire(import.meta.url);

/**
 * ajv and ajv-formats, loaded when something is compiled (the precompiled validators need
 * neither). Both are CommonJS with `exports.default`; take the constructor either way.
 */
function ajvModules(): { Ajv: AjvClass; addFormats: typeof addFormatsModule.default } {
  const ajv = require('ajv') as { default?: AjvClass } & AjvClass;
  const formats = require('ajv-formats') as { default?: typeof addFormatsModule.default } & typeof addFormatsModule.default;
  return { Ajv: ajv.default ?? ajv, addFormats: formats.default ?? formats };
}

/** The ajv options every validator is compiled with (runtime compilation and the precompiled code alike). */
export const AJV_OPTIONS = { allErrors: true, useDefaults: true, verbose: true, strict: true, strictRequired: false, strictTuples: false, allowUnionTypes: true } as const;

/** Every schema to compile, by the name its validator is exported under in the precompiled code. */
export function schemasToCompile(): Record<string, object> {
  const out: Record<string, object> = {};
  for (const [kind, schema] of Object.entries(KIND_SCHEMAS)) out[kind] = schema;
  out.AppSpec = specRoot(appSpecSchema, 'setopsd:app-spec');
  out.ServiceSpec = specRoot(serviceSpecSchema, 'setopsd:service-spec');
  return out;
}

/** Identifies the schemas and options: precompiled validators are used only when it matches. */
export function schemaFingerprint(): string {
  return hashOf({ options: AJV_OPTIONS, formats: ['email', 'uri'], schemas: schemasToCompile() });
}

/** A configured ajv instance (formats and the editor keywords setopsd's messages use). */
export function newAjv(extra: Record<string, unknown> = {}): InstanceType<AjvClass> {
  const { Ajv, addFormats } = ajvModules();
  const ajv = new Ajv({ ...AJV_OPTIONS, ...extra });
  addFormats(ajv, ['email', 'uri']);
  for (const [name, check] of Object.entries(customFormats)) ajv.addFormat(name, check);
  // Editor extensions (VS Code, yaml-language-server), used for our own messages too.
  ajv.addKeyword({ keyword: 'errorMessage', schemaType: 'string' });
  ajv.addKeyword({ keyword: 'patternErrorMessage', schemaType: 'string' });
  return ajv;
}

function validatorsOf(fns: Record<string, ValidateFunction>): Validators {
  const run = (fn: ValidateFunction, value: unknown): SchemaProblem[] => (fn(value) ? [] : humanize(fn.errors as ErrorObject[]));
  return {
    document: (kind, value) => run(fns[kind]!, value),
    appSpec: (value) => run(fns.AppSpec!, value),
    serviceSpec: (value) => run(fns.ServiceSpec!, value),
  };
}

/**
 * Compiles every schema with ajv (all errors, defaults filled in, formats). Compiling takes a
 * few hundred milliseconds; `sharedValidators()` uses the precompiled code instead.
 */
export function compileValidators(): Validators {
  const ajv = newAjv();
  const fns: Record<string, ValidateFunction> = {};
  for (const [name, schema] of Object.entries(schemasToCompile())) fns[name] = ajv.compile(schema);
  return validatorsOf(fns);
}

/** A spec schema as a root schema (a root has no `default`). */
function specRoot(schema: object, $id: string): object {
  const { default: _ignored, ...rest } = schema as { default?: unknown };
  return { ...rest, $id };
}

// Compiled validators are immutable code (no per-call state survives a call), so one compiled
// set is shared the way a RegExp constant would be: made lazily on first use.
let shared: Validators | undefined;

/**
 * The process-wide validators: the ajv standalone code generated at build time
 * (`src/schema/validators.generated.ts`, `npm run build`), or — when the schemas changed since it
 * was generated — compiled now, so a stale file costs time, never correctness.
 */
export function sharedValidators(): Validators {
  shared ??= precompiledIsCurrent() ? validatorsOf(precompiled as unknown as Record<string, ValidateFunction>) : compileValidators();
  return shared;
}

/**
 * Whether the precompiled code was made from the schemas of this source. A build (`npm run
 * build`, `prepare`, `prepack`) regenerates it before compiling, so the built package trusts
 * it; from the TypeScript sources (tests, tsx) the fingerprint is compared.
 */
function precompiledIsCurrent(): boolean {
  if (!import.meta.url.endsWith('.ts')) return true;
  return precompiled.SCHEMA_FINGERPRINT === schemaFingerprint();
}
