import t from 'tap';
import { parseFile } from '../../src/manifests/yaml-docs.js';
import type { Issue } from '../../src/errors.js';
import { app, issuesOf } from './helpers.js';

// setopsd finds duplicate keys itself (in one pass; yaml's own check is quadratic in a mapping's width).

t.test('a repeated key is reported at the repetition, with its pointer and where it was first', async (t) => {
  t.same(issuesOf(app('web', 'command: x\nport: 1\nport: 2')), [
    'case.yaml:9:3: /spec/port: duplicate key "port" (first at line 8, column 3); a key may appear once in a mapping, remove one',
  ]);
});

t.test('in flow mappings, nested mappings and list items, each repetition once', async (t) => {
  const issues = issuesOf(app('web', 'command: x\nenv: { A: 1, B: 2, A: 3, A: 4 }\nlinks: [ { service: database, service: other } ]'));
  t.same(issues, [
    'case.yaml:8:22: /spec/env/A: duplicate key "A" (first at line 8, column 10); a key may appear once in a mapping, remove one',
    'case.yaml:8:28: /spec/env/A: duplicate key "A" (first at line 8, column 10); a key may appear once in a mapping, remove one',
    'case.yaml:9:33: /spec/links/0/service: duplicate key "service" (first at line 9, column 14); a key may appear once in a mapping, remove one',
  ]);
});

t.test('keys equal only as text are distinct (1 and "1"), and the same key in sibling mappings is fine', async (t) => {
  const issues: Issue[] = [];
  const docs = parseFile('a.yaml', 'a: { 1: x, "1": y }\nb: { k: 1 }\nc: { k: 2 }\n', issues);
  t.same(issues, []);
  t.equal(docs.length, 1);
});

t.test('a document with a duplicate key is not read; the other documents of the file are', async (t) => {
  const issues: Issue[] = [];
  const docs = parseFile('a.yaml', 'a: 1\na: 2\n---\nb: 1\n', issues);
  t.equal(issues.length, 1);
  t.match(issues[0], { line: 2, col: 1, pointer: '/a' });
  t.same(docs.map((d) => d.value), [{ b: 1 }]);
});

t.test('100,000 keys in one line: every duplicate is still found', async (t) => {
  const keys = Array.from({ length: 100_000 }, (_, i) => `K${i % 99_998}: v`).join(', ');
  const issues: Issue[] = [];
  parseFile('wide.yaml', `env: { ${keys} }\n`, issues);
  t.same(issues.map((i) => i.pointer), ['/env/K0', '/env/K1']);
});
