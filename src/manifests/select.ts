import { picomatch } from './glob.js';
import type { Issue } from '../errors.js';
import type { SourceFile } from './api.js';
import { issueAt } from './documents.js';
import { isPlainObject } from './merge-patch.js';
import { parseFile, type ParsedDoc } from './yaml-docs.js';

/**
 * Which files of a source are manifests. PURE. Every `*.yaml` / `*.yml` file of the config
 * directory is, except what CI systems and tools keep beside the manifests (`DEFAULT_EXCLUDED`),
 * narrowed by `include` / `exclude` globs from `.setopsd.yaml` at the config root and from
 * the `spec.manifests` of Organization documents.
 */

/** The settings file at the root of the config directory (never a manifest itself). */
export const SETTINGS_FILE = '.setopsd.yaml';

/** What is never read, said the way `--help` and the docs say it. */
export const DEFAULT_EXCLUDED = '.github/, .gitlab-ci.yml, node_modules/, dot-directories and dot-files';

/** `include` / `exclude` globs (picomatch, relative to the config directory, `/` separators). */
export interface ManifestSelection {
  include?: readonly string[];
  exclude?: readonly string[];
}

/** Whether a path is left out whatever the globs say: CI files, node_modules, dot-directories and dot-files. */
export function excludedByDefault(path: string): boolean {
  const segments = path.split('/');
  // `.github/`, `.gitlab-ci.yml`, `.git/`, `.setopsd/`, `.setopsd.yaml` and every other dot entry.
  return segments.some((s) => s.startsWith('.') || s === 'node_modules');
}

const matchers = new Map<string, (path: string) => boolean>();

/** A compiled glob; a glob ending in `/` names everything below that directory. */
function matcherOf(glob: string): (path: string) => boolean {
  let m = matchers.get(glob);
  if (m === undefined) {
    m = picomatch()(glob.endsWith('/') ? `${glob}**` : glob, { dot: true });
    matchers.set(glob, m);
  }
  return m;
}

/** Whether `path` is a manifest under every selection (each one narrows; none: every file). */
export function isSelected(path: string, selections: readonly ManifestSelection[]): boolean {
  if (excludedByDefault(path)) return false;
  return selections.every(
    (s) => (s.include === undefined || s.include.some((g) => matcherOf(g)(path))) && !(s.exclude ?? []).some((g) => matcherOf(g)(path)),
  );
}

/** What is wrong with a glob, or undefined when it can be used. */
export function globProblem(glob: string): string | undefined {
  if (glob.trim() === '') return 'must not be empty';
  if (glob.startsWith('/')) return `"${glob}" must be relative to the config directory; drop the leading /`;
  if (glob.includes('\\')) return `"${glob}" uses \\; separate directories with /`;
  if (glob.split('/').includes('..')) return `"${glob}" leaves the config directory (..); name paths inside it`;
  if (glob.startsWith('!')) return `"${glob}" is a negation; put the glob without ! under exclude instead`;
  for (const [open, close] of [['{', '}'], ['[', ']'], ['(', ')']] as const) {
    let depth = 0;
    for (const ch of glob) {
      if (ch === open) depth++;
      else if (ch === close) depth--;
      if (depth < 0) break;
    }
    if (depth !== 0) return `"${glob}" has an unbalanced ${open}${close}; close it or escape it`;
  }
  try {
    matcherOf(glob);
  } catch (err) {
    return `"${glob}" is not a valid glob (${(err as Error).message})`;
  }
  return undefined;
}

/**
 * The usable selection at `pointer` of a parsed document (`{ include?, exclude? }`), with an
 * issue for every bad key or glob. Undefined when there is none or any part of it is bad (a bad
 * selection never half-applies).
 */
export function selectionAt(parsed: ParsedDoc, pointer: string, value: unknown, issues: Issue[]): ManifestSelection | undefined {
  if (value === undefined) return undefined;
  const before = issues.length;
  if (!isPlainObject(value)) {
    issues.push(issueAt(parsed, pointer, 'must be a mapping with include and/or exclude: lists of globs'));
    return undefined;
  }
  const out: { include?: string[]; exclude?: string[] } = {};
  for (const [key, list] of Object.entries(value)) {
    if (key !== 'include' && key !== 'exclude') {
      issues.push(issueAt(parsed, `${pointer}/${key}`, `unknown key "${key}"; the keys are include and exclude`, 'key'));
      continue;
    }
    if (!Array.isArray(list)) {
      issues.push(issueAt(parsed, `${pointer}/${key}`, `${key} must be a list of globs, e.g. [deploy/**/*.yaml]`));
      continue;
    }
    list.forEach((glob: unknown, i) => {
      const problem = typeof glob === 'string' ? globProblem(glob) : `must be a glob (a string), got ${JSON.stringify(glob)}`;
      if (problem !== undefined) issues.push(issueAt(parsed, `${pointer}/${key}/${i}`, problem));
    });
    out[key] = list as string[];
  }
  return issues.length === before ? out : undefined;
}

/**
 * The selection of the source's `.setopsd.yaml` (a mapping with `manifests: { include, exclude }`),
 * with its problems as issues of that file.
 */
export function settingsSelection(files: readonly SourceFile[], issues: Issue[]): ManifestSelection | undefined {
  const file = files.find((f) => f.path === SETTINGS_FILE);
  if (file === undefined) return undefined;
  if (file.unreadable) {
    issues.push({ file: file.path, ...file.unreadable, pointer: '' });
    return undefined;
  }
  const docs = parseFile(file.path, file.text, issues);
  if (docs.length > 1) issues.push(issueAt(docs[1]!, '', `${SETTINGS_FILE} holds one document; remove the others`));
  const doc = docs[0];
  if (doc === undefined) return undefined;
  if (!isPlainObject(doc.value)) {
    issues.push(issueAt(doc, '', `${SETTINGS_FILE} must be a mapping, e.g. manifests: { include: [deploy/**/*.yaml] }`));
    return undefined;
  }
  for (const key of Object.keys(doc.value)) {
    if (key !== 'manifests') issues.push(issueAt(doc, `/${key}`, `unknown setting "${key}"; ${SETTINGS_FILE} knows manifests (include, exclude)`, 'key'));
  }
  return selectionAt(doc, '/manifests', doc.value.manifests, issues);
}
