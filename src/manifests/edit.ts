import { Composer, Document, Parser, isMap, isPair, isScalar, stringify, type Node, type Pair, type YAMLMap } from 'yaml';
import { ManifestError } from '../errors.js';
import { canonicalJson } from '../model/canonical.js';

/**
 * Edits of manifest files that keep what a person wrote. Each edit is made twice: on the parsed
 * document with `yaml`'s document API (what the result must mean), and as a minimal splice of the
 * file's text at the source range of the nodes it touches (what the result looks like: every
 * other byte, comment and blank line stays). The splice is checked against the document: should
 * they ever disagree, the document is written out instead, which still keeps its comments. Pure:
 * text in, text out.
 */

/** One file changed by an edit: its path (relative to the config directory) and both texts; `after` null deletes it. */
export interface FileEdit {
  path: string;
  before: string | null;
  after: string | null;
}

/** One YAML document of a manifest file, editable. */
export interface ManifestDoc {
  path: string;
  index: number;
  kind: string | undefined;
  name: string | undefined;
  project: string | undefined;
  organization: string | undefined;
  doc: Document;
}

/** A splice of the original text: replace [from, to) with `text`. */
interface Splice {
  /** The document it belongs to (a splice at a boundary would otherwise be claimed by two). */
  doc: number;
  from: number;
  to: number;
  text: string;
}

interface ParsedFile {
  path: string;
  text: string;
  docs: Document[];
  /** Offsets where each document's text starts and ends (the `---` line belongs to the document after it). */
  bounds: [number, number][];
  splices: Splice[];
  changed: Set<number>;
  removed: Set<number>;
  appended: Document[];
}

/** The manifests of a config directory, open for editing; `edits()` says what changed. */
export class ManifestSet {
  private readonly files: ParsedFile[];
  private readonly created = new Map<string, Document[]>();

  constructor(files: readonly { path: string; text: string }[]) {
    this.files = files.map((f) => parseFile(f.path, f.text));
  }

  /** Every document with its kind and names, in file order. */
  documents(): ManifestDoc[] {
    const out: ManifestDoc[] = [];
    for (const f of this.files) {
      f.docs.forEach((doc, index) => {
        if (f.removed.has(index) || !isMap(doc.contents)) return;
        const meta = doc.get('metadata');
        const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
        out.push({
          path: f.path,
          index,
          kind: str(doc.get('kind')),
          name: isMap(meta) ? str(meta.get('name')) : undefined,
          project: isMap(meta) ? str(meta.get('project')) : undefined,
          organization: isMap(meta) ? str(meta.get('organization')) : undefined,
          doc,
        });
      });
    }
    return out;
  }

  /** Sets `value` at `path` of a document, creating mappings on the way. */
  set(target: ManifestDoc, path: string[], value: unknown): void {
    const f = this.file(target.path);
    const current = target.doc.getIn(path, true) as Node | undefined;
    if (isScalar(current) && current.value === value) return;
    const splice = spliceForSet(f.text, target.doc, path, value);
    target.doc.setIn(path, value);
    f.changed.add(target.index);
    // Without a minimal splice the document is written out whole.
    f.splices.push(splice ? { ...splice, doc: target.index } : { doc: target.index, from: -1, to: -1, text: '' });
  }

  /** Removes the value at `path` (and a parent mapping it leaves empty); returns whether there was one. */
  delete(target: ManifestDoc, path: string[]): boolean {
    if (!target.doc.hasIn(path)) return false;
    const f = this.file(target.path);
    const parent = path.slice(0, -1);
    const parentNode = target.doc.getIn(parent, true);
    const whole = isMap(parentNode) && parentNode.items.length === 1 && parent.length > 0 ? parent : path;
    const splice = spliceForDelete(f.text, target.doc, whole);
    f.splices.push(splice ? { ...splice, doc: target.index } : { doc: target.index, from: -1, to: -1, text: '' });
    target.doc.deleteIn(whole);
    f.changed.add(target.index);
    return true;
  }

  /** Removes a whole document (a file left without documents is deleted). */
  remove(target: ManifestDoc): void {
    this.file(target.path).removed.add(target.index);
  }

  /** Adds a document after the last one of `path` (a new file when no such file exists). */
  append(path: string, value: unknown, commentBefore?: string): void {
    const doc = new Document(value);
    if (commentBefore) doc.commentBefore = commentBefore;
    const f = this.files.find((x) => x.path === path);
    if (f) f.appended.push(doc);
    else this.created.set(path, [...(this.created.get(path) ?? []), doc]);
  }

  /** The files that differ from what was read, sorted by path. */
  edits(): FileEdit[] {
    const out: FileEdit[] = [];
    for (const f of this.files) {
      if (f.changed.size === 0 && f.removed.size === 0 && f.appended.length === 0) continue;
      const after = renderFile(f);
      if (after !== f.text) out.push({ path: f.path, before: f.text, after });
    }
    for (const [path, docs] of this.created) out.push({ path, before: null, after: docs.map((d, i) => withMarker(render(d), i > 0)).join('') });
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  private file(path: string): ParsedFile {
    return this.files.find((f) => f.path === path)!;
  }
}

function parseFile(path: string, text: string): ParsedFile {
  const docs: Document[] = [];
  for (const doc of new Composer().compose(new Parser().parse(text))) {
    if (doc.errors.length > 0) throw new ManifestError(`${path}: not valid YAML (${doc.errors[0]!.message.split('\n')[0]}); fix the file before editing it`);
    docs.push(doc as Document);
  }
  // A document's text runs from its `---` line (or the start of the file) to the next one.
  const starts = docs.map((d, i) => (i === 0 ? 0 : lineStart(text, markerBefore(text, d.range?.[0] ?? 0))));
  const bounds = starts.map((s, i): [number, number] => [s, i + 1 < starts.length ? starts[i + 1]! : text.length]);
  return { path, text, docs, bounds, splices: [], changed: new Set(), removed: new Set(), appended: [] };
}

function renderFile(f: ParsedFile): string {
  const parts: string[] = [];
  f.docs.forEach((doc, i) => {
    if (f.removed.has(i)) return;
    const [from, to] = f.bounds[i]!;
    let part = f.text.slice(from, to);
    if (f.changed.has(i)) {
      const own = f.splices.filter((s) => s.doc === i);
      const minimal = own.every((s) => s.from >= from && s.to <= to) ? applySplices(part, own, from) : null;
      // The splice must mean exactly what the document API says; else write the document.
      part = minimal !== null && sameMeaning(minimal, doc) ? minimal : withMarker(render(doc), i > 0);
    }
    parts.push(part);
  });
  for (const doc of f.appended) {
    const last = parts[parts.length - 1];
    if (last !== undefined && !last.endsWith('\n')) parts[parts.length - 1] = last + '\n';
    parts.push(withMarker(render(doc), parts.length > 0));
  }
  return parts.length === 0 ? '' : parts.join('');
}

function applySplices(text: string, splices: readonly Splice[], base: number): string {
  let out = text;
  for (const s of [...splices].sort((a, b) => b.from - a.from)) out = out.slice(0, s.from - base) + s.text + out.slice(s.to - base);
  return out;
}

function sameMeaning(text: string, doc: Document): boolean {
  const docs = new Composer().compose(new Parser().parse(text));
  const [first, ...rest] = [...docs];
  return first !== undefined && rest.length === 0 && first.errors.length === 0 && canonicalJson(first.toJS()) === canonicalJson(doc.toJS());
}

/** The splice that sets `path` to `value`, or null when there is no simple one. */
function spliceForSet(text: string, doc: Document, path: string[], value: unknown): Omit<Splice, 'doc'> | null {
  const existing = doc.getIn(path, true) as Node | undefined;
  if (existing !== undefined) {
    if (!isScalar(existing) || !isScalarValue(value) || !existing.range) return null;
    return { from: existing.range[0], to: existing.range[1], text: inlineScalar(value) };
  }
  // The deepest mapping on the path that exists; the rest of the path is written below it.
  let depth = path.length - 1;
  while (depth > 0 && !isMap(doc.getIn(path.slice(0, depth), true))) depth--;
  const map = (depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true)) as YAMLMap | null;
  // Below a scalar or a sequence there is nothing to extend.
  if (!isMap(map) || !map.range || doc.hasIn(path.slice(0, depth + 1))) return null;
  let nested: unknown = value;
  for (const key of path.slice(depth + 1).reverse()) nested = { [key]: nested };
  const key = path[depth]!;
  if (map.flow) {
    const close = text.lastIndexOf('}', map.range[1]);
    if (close < map.range[0]) return null;
    const before = text.slice(map.range[0], close).trimEnd();
    const sep = before.endsWith('{') ? ' ' : ', ';
    const trimmedEnd = map.range[0] + before.length;
    return { from: trimmedEnd, to: trimmedEnd, text: `${sep}${flowPair(key, nested)}${before.endsWith('{') ? ' ' : ''}` };
  }
  const last = map.items[map.items.length - 1] as Pair<Node, Node> | undefined;
  const first = map.items[0] as Pair<Node, Node> | undefined;
  if (!last || !first || !isPair(last) || !first.key?.range) return null;
  const indent = first.key.range[0] - lineStart(text, first.key.range[0]);
  const end = (last.value ?? last.key)?.range?.[1];
  if (end === undefined) return null;
  const at = text[end - 1] === '\n' ? end : nextLine(text, end);
  const block = stringify({ [key]: nested }, { lineWidth: 0, flowCollectionPadding: false })
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => ' '.repeat(indent) + l)
    .join('\n');
  return { from: at, to: at, text: (at === text.length && !text.endsWith('\n') ? '\n' : '') + block + '\n' };
}

/** The splice that removes the pair at `path` from a block mapping, or null. */
function spliceForDelete(text: string, doc: Document, path: string[]): Omit<Splice, 'doc'> | null {
  const map = (path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true)) as YAMLMap | null;
  if (!isMap(map) || map.flow) return null;
  const pair = map.items.find((p) => isScalar(p.key) && p.key.value === path[path.length - 1]) as Pair<Node, Node> | undefined;
  const end = (pair?.value ?? pair?.key)?.range?.[1];
  if (!pair?.key?.range || end === undefined) return null;
  const from = lineStart(text, pair.key.range[0]);
  const to = text[end - 1] === '\n' ? end : nextLine(text, end);
  return { from, to, text: '' };
}

function isScalarValue(v: unknown): v is string | number | boolean {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

function inlineScalar(v: string | number | boolean): string {
  return stringify(v, { lineWidth: 0 }).trimEnd();
}

function flowPair(key: string, value: unknown): string {
  return stringify({ [key]: value }, { lineWidth: 0, flowCollectionPadding: false, collectionStyle: 'flow' }).trim().replace(/^\{|\}$/g, '');
}

function lineStart(text: string, at: number): number {
  return text.lastIndexOf('\n', at - 1) + 1;
}

function nextLine(text: string, at: number): number {
  const nl = text.indexOf('\n', at);
  return nl < 0 ? text.length : nl + 1;
}

/** The offset of the `---` marker line before `at` (a document's contents), or `at` when none. */
function markerBefore(text: string, at: number): number {
  const m = text.lastIndexOf('\n---', at);
  if (m >= 0) return m + 1;
  return text.startsWith('---') ? 0 : at;
}

function render(doc: Document): string {
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/** A document's text starting with `---` when it is not the first of its file. */
function withMarker(text: string, marker: boolean): string {
  const body = text.replace(/^---\n/, '');
  return marker ? `---\n${body}` : body;
}
