import { CST, LineCounter, Parser, parseAllDocuments, isAlias, isMap, isPair, isScalar, isSeq, type Document, type Node } from 'yaml';
import type { Issue } from '../errors.js';
import { escapePointer, splitPointer } from '../schema/messages.js';

/** One YAML document of a manifest file, parsed with source positions. */
export interface ParsedDoc {
  file: string;
  /** 0-based index of the document in its file. */
  index: number;
  /** The document as plain JSON data. */
  value: unknown;
  /** The document's node tree (positions); parsed again from the file's text when first asked for. */
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
}

const PARSE_OPTIONS = { merge: true, uniqueKeys: false, prettyErrors: false } as const;

/**
 * The node trees of one file, parsed again from its text on first use. A tree takes about six
 * times the memory of the plain values, and positions are needed only for documents with a
 * problem: keeping every tree until the cross-document checks end made a 30,000-file load
 * hold gigabytes. Re-parsing the same text with the same options gives the same trees.
 */
class FileTrees {
  #trees: { docs: Document.Parsed[]; lines: LineCounter } | undefined;
  constructor(readonly text: string) {}
  get(): { docs: Document.Parsed[]; lines: LineCounter } {
    if (this.#trees === undefined) {
      const lines = new LineCounter();
      const docs = parseAllDocuments(this.text, { ...PARSE_OPTIONS, lineCounter: lines });
      this.#trees = { docs: Array.isArray(docs) ? docs : [], lines };
    }
    return this.#trees;
  }
}

/** A ParsedDoc that holds its value and the file's text, not its tree (private fields stay out of `Object.values`, so a frozen cache entry does not freeze them). */
class LazyParsedDoc implements ParsedDoc {
  readonly #trees: FileTrees;
  constructor(
    readonly file: string,
    readonly index: number,
    readonly value: unknown,
    trees: FileTrees,
  ) {
    this.#trees = trees;
  }
  get doc(): Document.Parsed {
    return this.#trees.get().docs[this.index]!;
  }
  get lines(): LineCounter {
    return this.#trees.get().lines;
  }
}

/** A position in a manifest: 1-based line and column. */
export interface Position {
  line: number;
  col: number;
}

/**
 * Parses every document of one file. YAML syntax errors become issues (file, line, column);
 * a document with errors is not returned. Empty documents (a trailing `---`, only comments)
 * are skipped. YAML 1.2 core schema plus `<<` merge keys; duplicate keys are errors, found
 * here in one pass over the document (the `yaml` package's own check compares each key with
 * every earlier key of its mapping: quadratic in the width of a mapping). The returned documents
 * keep their values, not their node trees (see `FileTrees`).
 */
export function parseFile(file: string, text: string, issues: Issue[]): ParsedDoc[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { ...PARSE_OPTIONS, lineCounter: lines });
  const trees = new FileTrees(text);
  const out: ParsedDoc[] = [];
  // An empty stream (no documents, only comments) is an EmptyStream, not an array.
  const list = Array.isArray(docs) ? docs : [];
  list.forEach((doc, index) => {
    // Warnings (an unresolved tag such as `!Ref`) mean the document would not read as written.
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length > 0) {
      for (const e of problems) {
        // yaml reports a missing closing quote where the text ends; point at the opening quote.
        const at = e.code === 'MISSING_CHAR' && /quote/.test(e.message) ? (unclosedQuote(text) ?? e.pos[0]) : e.pos[0];
        issues.push(syntaxIssue(file, lines, at, e.message, e.code));
      }
      return;
    }
    if (doc.contents === null) return;
    const duplicates = duplicateKeys(doc.contents as Node);
    if (duplicates.length > 0) {
      for (const d of duplicates) {
        const first = position(lines, d.first);
        issues.push({ file, ...position(lines, d.at), pointer: d.pointer, message: `duplicate key ${d.key} (first at line ${first.line}, column ${first.col}); a key may appear once in a mapping, remove one` });
      }
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (err) {
      const pos = position(lines, doc.contents.range?.[0] ?? 0);
      issues.push({ file, ...pos, pointer: '', message: `cannot read this document: ${(err as Error).message}` });
      return;
    }
    // A document holding only comments (or `---` at the end) reads as null: nothing declared.
    if (value === null || value === undefined) return;
    out.push(new LazyParsedDoc(file, index, value, trees));
  });
  return out;
}

/** A key written twice in one mapping: where, and where it was first. */
interface DuplicateKey {
  pointer: string;
  key: string;
  at: number;
  first: number;
}

/**
 * Every key that repeats in its mapping, in one pass over the tree. Keys are the same as for
 * `yaml`'s own check: scalars with the same value (`1` and `"1"` differ), or the same node.
 * Iterative, so a deeply nested document cannot overflow the stack.
 */
function duplicateKeys(root: Node): DuplicateKey[] {
  const out: DuplicateKey[] = [];
  const stack: { node: Node; pointer: string }[] = [{ node: root, pointer: '' }];
  while (stack.length > 0) {
    const { node, pointer } = stack.pop()!;
    if (isMap(node)) {
      const seen = new Map<unknown, Node>();
      for (const pair of node.items) {
        const key = pair.key as Node | null;
        const id = isScalar(key) ? key.value : key;
        const segment = escapePointer(isScalar(key) ? String(key.value) : '?');
        const first = seen.get(id);
        if (first !== undefined && key !== null) {
          out.push({ pointer: `${pointer}/${segment}`, key: JSON.stringify(isScalar(key) ? String(key.value) : String(key)), at: key.range?.[0] ?? 0, first: first.range?.[0] ?? 0 });
        } else if (key !== null) seen.set(id, key);
        if (pair.value && (isMap(pair.value) || isSeq(pair.value))) stack.push({ node: pair.value as Node, pointer: `${pointer}/${segment}` });
        if (key && (isMap(key) || isSeq(key))) stack.push({ node: key, pointer });
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        if (item && (isMap(item) || isSeq(item))) stack.push({ node: item as Node, pointer: `${pointer}/${i}` });
      });
    }
  }
  return out.sort((a, b) => a.at - b.at);
}

/** Offset of the first quoted scalar that runs to the end of the text without its closing quote. */
function unclosedQuote(text: string): number | undefined {
  let found: number | undefined;
  for (const token of new Parser().parse(text)) {
    if (token.type !== 'document' || found !== undefined) continue;
    CST.visit(token, (item) => {
      for (const node of [item.key, item.value]) {
        if (found !== undefined || !node) continue;
        if (node.type !== 'double-quoted-scalar' && node.type !== 'single-quoted-scalar') continue;
        const quote = node.type === 'double-quoted-scalar' ? '"' : "'";
        const src = node.source;
        if (src.length < 2 || !src.endsWith(quote) || (quote === '"' && /(^|[^\\])(\\\\)*\\"$/.test(src))) found = node.offset;
      }
    });
  }
  return found;
}

function syntaxIssue(file: string, lines: LineCounter, offset: number, message: string, code: string): Issue {
  // yaml's messages end with a source excerpt after a colon and newline; keep the first line.
  const first = message.split('\n')[0]!.replace(/\s+at line \d+, column \d+:?$/, '').replace(/:$/, '');
  if (code === 'TAG_RESOLVE_FAILED') {
    const tag = /tag:\s*(\S+)/.exec(first)?.[1] ?? 'tag';
    return { file, ...position(lines, offset), pointer: '', message: `unknown YAML tag ${tag}; setopsd reads plain YAML values, remove the tag` };
  }
  return { file, ...position(lines, offset), pointer: '', message: `YAML syntax error: ${first} (${code})` };
}

/** 1-based line and column of an offset. */
export function position(lines: LineCounter, offset: number): Position {
  const p = lines.linePos(offset);
  if (p.line === 0) return { line: 1, col: offset + 1 };
  return { line: p.line, col: p.col };
}

/**
 * Finds where a JSON pointer points in the document. With `at: 'key'` the position of the
 * property's key, else of its value. A path that does not exist as written (a missing
 * property, a value from a `<<` merge key) falls back to the nearest existing ancestor.
 */
export function locate(parsed: ParsedDoc, pointer: string, at?: 'key'): Position {
  const segments = splitPointer(pointer);
  let node: Node | null = parsed.doc.contents as Node | null;
  let best: number = node?.range?.[0] ?? 0;
  for (let i = 0; i < segments.length && node; i++) {
    const seg = segments[i]!;
    const last = i === segments.length - 1;
    if (isAlias(node)) node = node.resolve(parsed.doc) ?? null;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyOf(p.key) === seg);
      if (!pair) break;
      const keyNode = pair.key as Node | null;
      const valueNode = pair.value as Node | null;
      if (last && at === 'key' && keyNode?.range) return position(parsed.lines, keyNode.range[0]);
      if (valueNode?.range && !(isScalar(valueNode) && valueNode.value === null && valueNode.range[0] === valueNode.range[1])) {
        best = valueNode.range[0];
      } else if (keyNode?.range) {
        best = keyNode.range[0];
      }
      node = valueNode;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)] as Node | undefined;
      if (!item || !/^\d+$/.test(seg)) break;
      if (item.range) best = item.range[0];
      node = item;
    } else {
      break;
    }
  }
  return position(parsed.lines, best);
}

function keyOf(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}
