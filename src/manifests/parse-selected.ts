import { createHash } from 'node:crypto';
import type { Issue } from '../errors.js';
import { compareCodeUnits } from '../model/canonical.js';
import { sharedValidators, type Validators } from '../schema/validate.js';
import type { SourceFiles } from './api.js';
import { declare, issueAt, type AnyDeclared } from './documents.js';
import { isSelected, selectionAt, settingsSelection, type ManifestSelection } from './select.js';
import { parseFile, type ParsedDoc } from './yaml-docs.js';

/** What `loadDesired` keeps per file between loads (see `LoadOptions.cache`). */
export type ParseCache = Map<string, { declared: readonly AnyDeclared[]; issues: readonly Issue[] }>;

/**
 * The manifests of a source, parsed and schema-checked: the files `select.ts` selects (the
 * `.setopsd.yaml` globs before parsing, the Organizations' after), their declarations and
 * issues, and their paths (sorted). PURE.
 */
export function parseSelected(files: SourceFiles, validators: Validators, cache?: ParseCache): { declared: AnyDeclared[]; issues: Issue[]; paths: string[] } {
  const issues: Issue[] = [];
  const declared: AnyDeclared[] = [];
  const paths: string[] = [];
  // Which files are manifests: `.setopsd.yaml` narrows before parsing, Organizations after.
  const settings = settingsSelection(files.files, issues);
  const candidates = files.files.filter((f) => isSelected(f.path, settings ? [settings] : [])).sort((a, b) => compareCodeUnits(a.path, b.path));
  const entries = new Map<string, { declared: readonly AnyDeclared[]; issues: readonly Issue[] }>();
  const seen = new Set<string>();
  for (const file of candidates) {
    if (file.unreadable) {
      const { line, col, message } = file.unreadable;
      entries.set(file.path, { declared: [], issues: [{ file: file.path, line, col, pointer: '', message }] });
      continue;
    }
    // A git source names the content by its blob id; a directory's files are hashed.
    const key = cache ? `${file.path}\u0000${file.oid ?? createHash('sha1').update(file.text).digest('hex')}` : '';
    let entry = cache?.get(key);
    if (entry === undefined) {
      const fileIssues: Issue[] = [];
      const fileDeclared: AnyDeclared[] = [];
      // Parsed documents keep their values, not their node trees (parsed again to locate an issue).
      for (const parsed of parseFile(file.path, file.text, fileIssues)) {
        const d = declare(parsed, validators, fileIssues);
        if (d) fileDeclared.push(d);
      }
      entry = { declared: fileDeclared, issues: fileIssues };
      if (cache) cache.set(key, deepFreeze(entry));
    }
    seen.add(key);
    entries.set(file.path, entry);
  }
  if (cache) for (const key of cache.keys()) if (!seen.has(key)) cache.delete(key);
  // An Organization whose globs leave out its own file is reported and its globs not applied
  // (applying them would drop the Organization and bury the cause under follow-up problems).
  const found = organizationSelections([...entries.values()].flatMap((e) => e.declared), issues);
  const all = found.map((s) => s.selection);
  const selections = found.filter(({ parsed }) => {
    if (isSelected(parsed.file, all)) return true;
    issues.push(issueAt(parsed, '/spec/manifests', `leaves out ${parsed.file}, the file that declares it; include that file or move the Organization`, 'key'));
    return false;
  }).map((s) => s.selection);
  for (const [path, entry] of entries) {
    if (!isSelected(path, selections)) continue;
    paths.push(path);
    declared.push(...entry.declared);
    issues.push(...entry.issues);
  }
  return { declared, issues, paths };
}

/** The paths of a source's files that are manifests (what `loadDesired` reads), sorted. */
export function manifestPaths(files: SourceFiles): string[] {
  return parseSelected(files, sharedValidators()).paths;
}

/**
 * The `spec.manifests` selections of the Organizations, with an issue for every bad glob
 * (the schema has already checked their shape when the spec is invalid, so only globs here).
 */
function organizationSelections(declared: readonly AnyDeclared[], issues: Issue[]): { parsed: ParsedDoc; selection: ManifestSelection }[] {
  const out: { parsed: ParsedDoc; selection: ManifestSelection }[] = [];
  for (const d of declared) {
    if (d.kind !== 'Organization') continue;
    const scratch: Issue[] = [];
    const selection = selectionAt(d.parsed, '/spec/manifests', (d.parsed.value as { spec?: { manifests?: unknown } }).spec?.manifests, scratch);
    if (d.specOk) issues.push(...scratch);
    else issues.push(...scratch.filter((i) => /\/(include|exclude)\/\d+$/.test(i.pointer) && !i.message.startsWith('must be a glob') && i.message !== 'must not be empty'));
    if (selection !== undefined) out.push({ parsed: d.parsed, selection });
  }
  return out;
}

/** Freezes a cached value all the way down, so a later step that tried to change it would fail loudly. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
