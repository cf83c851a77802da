import { createRequire } from 'node:module';
import type AjvModule from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { hashOf } from '../model/canonical.js';

/**
 * Compiles the JSON Schema rules of `kind: Policy` documents at run time (they are data from the
 * manifests, so they cannot be precompiled). ajv turns a schema into a validation function; no
 * code from the manifests runs. Compiled rules are cached by the hash of their schema, so the
 * daemon compiles a rule once however many commits and stages it is evaluated on; with a
 * {@link CompiledRuleStore} (the CLI's file cache) also across runs: ajv's standalone code of a
 * rule is kept there, and a later run evaluates it without loading ajv at all.
 */

type AjvClass = typeof AjvModule.default;
const require = createRequire(import.meta.url);

/** A rule's schema is not a usable JSON Schema: where in the rule (a pointer into it) and why. */
export interface RuleProblem {
  pointer: string;
  /** The problem is the key at `pointer` (a misspelt keyword), not its value. */
  at?: 'key';
  message: string;
}

/** One failed check of a model against a rule: where in the model and ajv's message (never the value). */
export interface RuleFailure {
  instancePath: string;
  keyword: string;
  message: string;
}

/** A compiled rule: the failures of a model, none when it satisfies the rule. Never mutates the model. */
export type CompiledRule = (model: unknown) => RuleFailure[];

/** Keeps the standalone code of compiled rules between runs (an edge: the file store is `src/state/compiled-rules.ts`). */
export interface CompiledRuleStore {
  /** The code stored under `key`, or undefined. */
  get(key: string): string | undefined;
  /** Stores code under `key`; never throws. */
  put(key: string, code: string): void;
}

let store: CompiledRuleStore | undefined;
/** Sets (or, with undefined, removes) the store compiled rules are kept in between runs. */
export function useCompiledRuleStore(s: CompiledRuleStore | undefined): void {
  store = s;
}

let ajv: InstanceType<AjvClass> | undefined;
/** Compiled rules kept (oldest dropped first). */
const CACHE_LIMIT = 1000;
const schemas = new Map<string, object | boolean>();
const cache = new Map<string, { ok: true; check: CompiledRule } | { ok: false; problems: RuleProblem[] }>();

function policyAjv(): InstanceType<AjvClass> {
  if (ajv) return ajv;
  const mod = require('ajv') as { default?: AjvClass } & AjvClass;
  const formats = require('ajv-formats') as { default?: (a: unknown) => void } & ((a: unknown) => void);
  const Ajv = mod.default ?? mod;
  // strictSchema: an unknown keyword (a typo such as `minimun`) is an error, not a rule that always passes.
  // No defaults: evaluating a rule must never change the model it reads.
  const { _ } = require('ajv/dist/compile/codegen') as typeof import('ajv/dist/compile/codegen/index.js');
  ajv = new Ajv({
    allErrors: true, strictSchema: true, strictNumbers: true, strictTypes: false, strictRequired: false, strictTuples: false, allowUnionTypes: true, useDefaults: false, validateSchema: true, addUsedSchema: false,
    // Keeps each rule's source for the store (standalone code); its formats come from ajv-formats at load.
    code: { source: true, formats: _`require("ajv-formats/dist/formats").fullFormats` },
  });
  (formats.default ?? formats)(ajv);
  return ajv;
}

/** Compiles one rule's schema (cached by its hash), or says why it is not a usable JSON Schema. */
export function compileRule(schema: object | boolean): { ok: true; check: CompiledRule } | { ok: false; problems: RuleProblem[] } {
  const key = hashOf(schema);
  const hit = cache.get(key);
  if (hit) return hit;
  // Only rules that compiled are stored, so a stored one passed the meta-schema and strict mode.
  const storeKey = store === undefined ? '' : `ajv-${require('ajv/package.json').version as string}-${key.replace(/^sha256:/, '')}`;
  const stored = store === undefined ? null : loadStandalone(store.get(storeKey));
  if (stored !== null) return remember(key, schema, { ok: true, check: checkWith(stored) });
  const a = policyAjv();
  let result: { ok: true; check: CompiledRule } | { ok: false; problems: RuleProblem[] };
  if (typeof schema === 'object' && !a.validateSchema(schema)) {
    result = { ok: false, problems: metaProblems(a.errors ?? []) };
  } else {
    try {
      const fn: ValidateFunction = a.compile(schema);
      result = { ok: true, check: checkWith(fn) };
      if (store !== undefined) store.put(storeKey, standaloneCode(a, fn));
    } catch (err) {
      const message = (err as Error).message;
      const keyword = /unknown keyword: "([^"]+)"/.exec(message)?.[1];
      const pointer = keyword === undefined ? null : pointerOfKey(schema, keyword);
      result = { ok: false, problems: [{ pointer: pointer ?? '', ...(pointer !== null ? { at: 'key' as const } : {}), message: `not a usable JSON Schema: ${message}` }] };
    }
  }
  return remember(key, schema, result);
}

type Compiled = { ok: true; check: CompiledRule } | { ok: false; problems: RuleProblem[] };

function remember(key: string, schema: object | boolean, result: Compiled): Compiled {
  // Bounded: a daemon following many commits must not keep every rule it ever compiled.
  if (cache.size >= CACHE_LIMIT) {
    const oldest = cache.keys().next().value!;
    const schemaOfOldest = schemas.get(oldest);
    if (typeof schemaOfOldest === 'object') ajv?.removeSchema(schemaOfOldest); // ajv keeps its own cache by schema object
    cache.delete(oldest);
    schemas.delete(oldest);
  }
  cache.set(key, result);
  schemas.set(key, schema);
  return result;
}

/** A validation function as ajv makes them: true, or false with its `errors`. */
type Validate = ((model: unknown) => boolean) & { errors?: ErrorObject[] | null };

function checkWith(fn: Validate): CompiledRule {
  return (model) => (fn(model) ? [] : failures(fn.errors ?? []));
}

/** ajv's standalone code of one compiled rule (CommonJS that requires ajv's runtime helpers and ajv-formats' formats). */
function standaloneCode(a: InstanceType<AjvClass>, fn: ValidateFunction): string {
  const standalone = require('ajv/dist/standalone') as { default: (ajv: unknown, fn: unknown) => string };
  return standalone.default(a, fn);
}

/** The validation function of stored standalone code, or null when there is none or it is not usable. */
function loadStandalone(code: string | undefined): Validate | null {
  if (code === undefined) return null;
  try {
    const module = { exports: {} as unknown };
    // The code ajv generated for a rule, run as ajv runs it (`new Function`); its requires resolve from setopsd's own packages.
    new Function('require', 'module', 'exports', code)(require, module, module.exports);
    const exported = module.exports as { default?: unknown };
    const fn = typeof exported.default === 'function' ? exported.default : exported;
    return typeof fn === 'function' ? (fn as Validate) : null;
  } catch {
    return null;
  }
}

/** The meta-schema's complaints, one per place: its `anyOf` summaries and later alternatives say less than the first. */
function metaProblems(errors: ErrorObject[]): RuleProblem[] {
  const seen = new Set<string>();
  const out: RuleProblem[] = [];
  for (const e of errors) {
    if (e.keyword === 'anyOf' || seen.has(e.instancePath)) continue;
    seen.add(e.instancePath);
    out.push({ pointer: e.instancePath, message: schemaMessage(e) });
  }
  return out;
}

function schemaMessage(e: ErrorObject): string {
  const allowed = (e.params as { allowedValues?: unknown[] }).allowedValues;
  const base = `not a valid JSON Schema: ${e.message ?? 'invalid'}`;
  return allowed ? `${base} (${allowed.map((v) => JSON.stringify(v)).join(', ')})` : base;
}

/** The failures that say what is wrong: an `if` that chose `then`, and the `anyOf` wrapper's summary, add nothing. */
function failures(errors: ErrorObject[]): RuleFailure[] {
  return errors
    .filter((e) => e.keyword !== 'if')
    .map((e) => ({ instancePath: e.instancePath, keyword: e.keyword, message: e.message ?? 'fails the rule' }));
}

/** The JSON pointer of the first object key `key` in `value` (depth first), so a misspelt keyword is located. */
function pointerOfKey(value: unknown, key: string, at = ''): string | null {
  if (typeof value !== 'object' || value === null) return null;
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  for (const [k, v] of entries) {
    const here = `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (!Array.isArray(value) && k === key) return here;
    const found = pointerOfKey(v, key, here);
    if (found !== null) return found;
  }
  return null;
}
