import t from 'tap';
import { isDocument } from 'yaml';
import type { Issue } from '../../src/errors.js';
import { locate, parseFile } from '../../src/manifests/yaml-docs.js';

const TEXT = ['kind: Organization', 'metadata:', '  name: acme', '---', 'kind: Project', 'metadata:', '  name: shop', '  organization: acme', ''].join('\n');

t.test('parsed documents keep their values, not the node trees; positions are found by parsing the text again', async (t) => {
  const issues: Issue[] = [];
  const docs = parseFile('a.yaml', TEXT, issues);
  t.same(issues, []);
  t.equal(docs.length, 2);
  for (const d of docs) {
    // What a load holds per document between parsing and the last check: no yaml tree.
    t.notOk(Object.values(d).some((v) => isDocument(v)), `document ${d.index} holds no tree`);
    t.notOk(JSON.stringify(d).includes('"range"'), `document ${d.index} holds no nodes`);
  }
  t.same(docs[1]!.value, { kind: 'Project', metadata: { name: 'shop', organization: 'acme' } });
  t.same(locate(docs[1]!, '/metadata/organization'), { line: 8, col: 17 });
  t.same(locate(docs[1]!, '/metadata/organization', 'key'), { line: 8, col: 3 });
  t.same(locate(docs[0]!, '/metadata/name'), { line: 3, col: 9 });
  // One re-parse per file, shared by its documents.
  t.equal(docs[0]!.lines, docs[1]!.lines);
  t.equal(docs[1]!.doc, docs[1]!.doc);
});

t.test('a frozen document (the daemon parse cache freezes entries) still finds positions', async (t) => {
  const [doc] = parseFile('a.yaml', TEXT, []);
  Object.freeze(doc);
  t.same(locate(doc!, '/kind'), { line: 1, col: 7 });
});
