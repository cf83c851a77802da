import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/deps.js';
import { gitRepo } from '../helpers/git.js';
import { tempDir, type Teardown } from '../helpers/temp.js';

/**
 * `--format json` makes errors JSON too, on stdout with exit 1, so a CI step that parses stdout
 * always has something to read (and to post): every located manifest problem with its code, or
 * the one error that is not about a manifest (a bad --stage, a git error, a usage error).
 */
const GOLDEN = join(import.meta.dirname, '..', 'fixtures', 'json-errors');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const STAGES = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'plans', 'scale-change', 'desired', 'stages.yaml'), 'utf8');
const BROKEN_APP = `apiVersion: setopsd/v1
kind: App
metadata:
  name: web
  project: shop
spec:
  image: ghcr.io/acme/web:1.4.2
  port: eighty
  scale: -1
`;

function golden(name: string, got: string): string {
  if (UPDATE) writeFileSync(join(GOLDEN, name), got);
  return readFileSync(join(GOLDEN, name), 'utf8');
}

interface ErrorDoc {
  formatVersion: number;
  valid: boolean;
  error: { code: string; message: string };
  issues: { code: string; file: string; line: number; column: number; pointer: string; message: string }[];
}

function brokenRepo(t: Teardown) {
  const repo = gitRepo(t);
  repo.commit('broken app', { 'config/stages.yaml': STAGES, 'config/apps.yaml': BROKEN_APP });
  return repo;
}

t.test('plan and diff --format json: invalid manifests are a JSON document of every located issue (golden)', async (t) => {
  const repo = brokenRepo(t);
  const stateDir = tempDir(t);
  const r = await runCli(['plan', '--repo', repo.dir, '--dir', 'config', '--format', 'json', '--state-dir', stateDir]);
  t.equal(r.code, 1);
  t.equal(r.stdout, golden('plan-invalid.json', r.stdout));
  const doc = JSON.parse(r.stdout) as ErrorDoc;
  t.equal(doc.formatVersion, 1);
  t.equal(doc.valid, false);
  t.equal(doc.error.code, 'E_VALIDATION');
  t.same(doc.issues.map((i) => [i.code, i.file, i.line, i.column, i.pointer]), [
    ['E_VALIDATION', 'config/apps.yaml', 8, 9, '/spec/port'],
    ['E_VALIDATION', 'config/apps.yaml', 9, 10, '/spec/scale'],
  ], 'every problem, located');
  t.match(r.stderr, /config\/apps\.yaml:8:9: \/spec\/port: /, 'a person still reads the problems on stderr');
  t.notMatch(r.stderr, /at .*\.ts:\d+/, 'no stack trace');

  const text = await runCli(['plan', '--repo', repo.dir, '--dir', 'config', '--state-dir', stateDir]);
  t.equal(text.code, 1);
  t.equal(text.stdout, '', 'without --format json, stdout stays empty');

  const base = repo.revParse('HEAD');
  const diff = await runCli(['diff', '--repo', repo.dir, '--dir', 'config', '--base', base, '--head', 'HEAD', '--format=json']);
  t.equal(diff.code, 1);
  t.same((JSON.parse(diff.stdout) as ErrorDoc).issues, doc.issues, 'diff reports the same issues');
});

t.test('validate --format json: formatVersion, and a code and column per issue; col kept', async (t) => {
  const repo = brokenRepo(t);
  const r = await runCli(['validate', '--repo', repo.dir, '--dir', 'config', '--format', 'json']);
  t.equal(r.code, 1);
  const doc = JSON.parse(r.stdout) as { formatVersion: number; valid: boolean; issues: { code: string; line: number; col: number; column: number }[] };
  t.equal(doc.formatVersion, 1);
  t.equal(doc.valid, false);
  t.same(doc.issues.map((i) => [i.code, i.line, i.col, i.column]), [['E_VALIDATION', 8, 9, 9], ['E_VALIDATION', 9, 10, 10]]);
});

t.test('--format json: errors that are not about a manifest are a JSON error with code and message', async (t) => {
  const repo = gitRepo(t);
  repo.commit('valid', { 'stages.yaml': STAGES });
  const stateDir = tempDir(t);
  const cases: [string, string[], string, RegExp][] = [
    ['a bad --stage', ['plan', '--repo', repo.dir, '--stage', 'acme/shop/qa', '--state-dir', stateDir], 'E_USAGE', /--stage acme\/shop\/qa: no such stage/],
    ['an unknown ref', ['plan', '--repo', repo.dir, '--ref', 'nope', '--state-dir', stateDir], 'E_MANIFEST', /ref "nope" does not exist/],
    ['not a repository', ['diff', '--repo', tempDir(t), '--base', 'a', '--head', 'b'], 'E_MANIFEST', /not a git repository/],
    ['a misspelt option', ['validate', '--repo', repo.dir, '--stag', 'x'], 'E_USAGE', /unknown option --stag/],
    ['no such directory', ['validate', join(tempDir(t), 'nowhere')], 'E_MANIFEST', /no such directory/],
  ];
  for (const [what, argv, code, message] of cases) {
    const r = await runCli([...argv, '--format', 'json']);
    t.equal(r.code, 1, `${what}: exit 1`);
    const doc = JSON.parse(r.stdout) as ErrorDoc;
    t.same({ formatVersion: doc.formatVersion, valid: doc.valid, code: doc.error.code, issues: doc.issues }, { formatVersion: 1, valid: false, code, issues: [] }, what);
    t.match(doc.error.message, message, `${what}: the message`);
    t.match(r.stderr, /^error: /, `${what}: stderr keeps the message for a person`);
  }
  const plain = await runCli(['plan', '--repo', repo.dir, '--stage', 'acme/shop/qa', '--state-dir', stateDir]);
  t.equal(plain.stdout, '', 'no JSON without --format json');
});
