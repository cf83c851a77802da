import type { Issue } from '../errors.js';
import { API_VERSION, KINDS, type AppDoc, type Kind, type OrganizationDoc, type PolicyDoc, type ProjectDoc, type ServiceDoc, type StageDoc } from '../schema/kinds.js';
import { didYouMean } from '../schema/suggest.js';
import type { SchemaProblem, Validators } from '../schema/validate.js';
import { isPlainObject } from './merge-patch.js';
import { salvage } from './salvage.js';
import { locate, type ParsedDoc } from './yaml-docs.js';

/** A schema-checked document whose metadata is usable (its spec may still be invalid). */
export interface Declared<K extends Kind = Kind, D = unknown> {
  kind: K;
  name: string;
  parsed: ParsedDoc;
  value: D;
  /** The spec passed the schema (defaults filled in). */
  specOk: boolean;
  /**
   * `value` is well-formed enough for cross-reference checks: the spec passed the schema, or
   * its invalid parts were removed (`salvage`). Only `specOk` declarations make models.
   */
  checkable: boolean;
}

export type DeclaredOrganization = Declared<'Organization', OrganizationDoc>;
export type DeclaredProject = Declared<'Project', ProjectDoc>;
export type DeclaredStage = Declared<'Stage', StageDoc>;
export type DeclaredApp = Declared<'App', AppDoc>;
export type DeclaredService = Declared<'Service', ServiceDoc>;
export type DeclaredPolicy = Declared<'Policy', PolicyDoc>;
export type AnyDeclared = DeclaredOrganization | DeclaredProject | DeclaredStage | DeclaredApp | DeclaredService | DeclaredPolicy;

/** An issue at a pointer of a parsed document. */
export function issueAt(parsed: ParsedDoc, pointer: string, message: string, at?: 'key'): Issue {
  return { file: parsed.file, ...locate(parsed, pointer, at), pointer, message };
}

/** Turns schema problems of a whole document into its issues. */
export function problemIssues(parsed: ParsedDoc, problems: SchemaProblem[]): Issue[] {
  return problems.map((p) => issueAt(parsed, p.pointer, p.message, p.at));
}

/**
 * Checks one document's envelope and schema (filling in defaults). Returns the declaration when
 * its metadata is usable, so later checks can refer to it even when its spec is invalid.
 */
export function declare(parsed: ParsedDoc, validators: Validators, issues: Issue[]): AnyDeclared | undefined {
  const v = parsed.value;
  if (!isPlainObject(v)) {
    issues.push(issueAt(parsed, '', `a manifest must be a mapping with apiVersion, kind, metadata and spec, got ${Array.isArray(v) ? 'a list' : 'a scalar'}`));
    return undefined;
  }
  const kind = v.kind;
  if (typeof kind !== 'string' || !(KINDS as readonly string[]).includes(kind)) {
    const msg =
      kind === undefined
        ? `missing required field "kind"; one of ${KINDS.join(', ')}`
        : `unknown kind ${JSON.stringify(kind)}; kinds are ${KINDS.join(', ')}${typeof kind === 'string' ? didYouMean(kind, KINDS) : ''}`;
    issues.push(issueAt(parsed, kind === undefined ? '' : '/kind', msg));
    return undefined;
  }
  if (v.apiVersion !== undefined && v.apiVersion !== API_VERSION) {
    issues.push(issueAt(parsed, '/apiVersion', `apiVersion must be "${API_VERSION}", got ${JSON.stringify(v.apiVersion)}`));
    return undefined;
  }
  if (kind === 'Service') normalizeVersion(v.spec);
  const problems = validators.document(kind as Kind, v);
  issues.push(...problemIssues(parsed, problems));
  // Declarations with usable metadata are kept even when their spec is invalid, so references
  // to them (links, excludes) do not add follow-up problems.
  const metadataOk = !problems.some(
    (p) => p.pointer.startsWith('/metadata') || p.pointer === '/apiVersion' || p.pointer === '/kind' || (p.pointer === '' && p.missing !== 'spec'),
  );
  if (!metadataOk) return undefined;
  const name = (v.metadata as { name: string }).name;
  if (problems.length === 0) return { kind: kind as Kind, name, parsed, value: v, specOk: true, checkable: true } as AnyDeclared;
  const rest = salvage(v, problems, (x) => validators.document(kind as Kind, x));
  return { kind: kind as Kind, name, parsed, value: rest ?? v, specOk: false, checkable: rest !== undefined } as AnyDeclared;
}

/**
 * YAML reads `version: 16` as a number; versions are strings in the model. Numbers become
 * their decimal string before validation (`7.2` → "7.2").
 */
export function normalizeVersion(spec: unknown): void {
  if (!isPlainObject(spec)) return;
  if (typeof spec.version === 'number') spec.version = String(spec.version);
  if (isPlainObject(spec.stages)) {
    for (const patch of Object.values(spec.stages)) {
      if (isPlainObject(patch) && typeof patch.version === 'number') patch.version = String(patch.version);
    }
  }
}
