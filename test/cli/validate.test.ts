import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/deps.js';
import { gitRepo } from '../helpers/git.js';
import { tempDir } from '../helpers/temp.js';
import { loadDesired } from '../../src/manifests/load.js';
import { readDirectory } from '../../src/manifests/source-dir.js';
import { hashOf } from '../../src/model/canonical.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const example = readFileSync(join(repoRoot, 'examples/setops.yaml'), 'utf8');
const SUMMARY = 'valid: 1 organization, 1 project, 2 stages, 2 apps, 3 services';

t.test('a valid directory: one summary line naming the files, exit 0', async (t) => {
  const cwd = tempDir(t);
  mkdirSync(join(cwd, 'config'));
  writeFileSync(join(cwd, 'config', 'setops.yaml'), example);
  const r = await runCli(['validate', 'config'], { cwd });
  t.equal(r.code, 0);
  t.equal(r.stdout, `${SUMMARY} (config/setops.yaml)\n`);
  t.equal(r.stderr, '');
  const here = await runCli(['validate'], { cwd: join(cwd, 'config') });
  t.equal(here.stdout, `${SUMMARY} (setops.yaml)\n`, 'DIR defaults to .');
});

t.test('many files are summarised by count', async (t) => {
  const cwd = tempDir(t);
  const docs = example.split(/^---$/m);
  docs.forEach((d, i) => writeFileSync(join(cwd, `${i}.yaml`), d));
  const r = await runCli(['validate', '.'], { cwd });
  t.equal(r.stdout, `${SUMMARY} (${docs.length} files in ./)\n`);
});

t.test('invalid manifests: every issue on stderr, exit 1', async (t) => {
  const cwd = tempDir(t);
  writeFileSync(join(cwd, 'a.yaml'), example.replace('scale: 3', 'scale: 30').replace('type: redis', 'type: memcached'));
  const r = await runCli(['validate', cwd], { cwd: tempDir(t) });
  t.equal(r.code, 1);
  t.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  t.match(lines[0], /^\/.*\/a\.yaml:\d+:\d+: \/spec\/type: type must be one of .*got "memcached"/, 'absolute path outside the cwd');
  t.match(lines[1], /a\.yaml:\d+:\d+: \/spec\/stages\/production\/scale: scale must be ≤ 16, got 30 \(in stage production, after its override\)$/);
  t.equal(lines[2], 'error: 2 problems in the manifests');
});

t.test('--format json: formatVersion, valid, counts, issues, stage keys and hashes', async (t) => {
  const cwd = tempDir(t);
  writeFileSync(join(cwd, 'setops.yaml'), example);
  const r = await runCli(['validate', '--format', 'json'], { cwd });
  t.equal(r.code, 0);
  const out = JSON.parse(r.stdout);
  const loaded = loadDesired(await readDirectory(cwd));
  t.ok(loaded.ok);
  if (!loaded.ok) return;
  t.strictSame(out.counts, { organizations: 1, projects: 1, stages: 2, apps: 2, services: 3 });
  t.equal(out.valid, true);
  t.strictSame(out.issues, []);
  t.strictSame(out.stages, [
    { key: 'acme/shop/production', hash: hashOf(loaded.value.stages[0]) },
    { key: 'acme/shop/staging', hash: hashOf(loaded.value.stages[1]) },
  ]);
  t.match(out.stages[0].hash, /^sha256:[0-9a-f]{64}$/);

  writeFileSync(join(cwd, 'setops.yaml'), example.replace('port: 5000', 'port: 0') + '---\nkind: Nope\n');
  const bad = await runCli(['validate', '--format', 'json'], { cwd });
  t.equal(bad.code, 1);
  const o = JSON.parse(bad.stdout);
  t.equal(o.valid, false);
  t.equal(o.counts, null);
  t.strictSame(o.stages, []);
  t.strictSame(Object.keys(o.issues[0]).sort(), ['code', 'col', 'column', 'file', 'line', 'message', 'pointer'], 'fields are only added: code and column');
  t.equal(o.formatVersion, 1);
  t.equal(o.issues[0].code, 'E_VALIDATION');
  t.equal(o.issues[0].column, o.issues[0].col);
  t.equal(o.issues[0].file, 'setops.yaml');
});

t.test('--repo/--ref/--dir read a commit of a git repository', async (t) => {
  const repo = gitRepo(t);
  const first = repo.commit('example', { 'config/setops.yaml': example, 'README.md': 'x' });
  repo.tag('v1', { message: 'first release' });
  repo.commit('break it', { 'config/setops.yaml': example.replace('type: s3', 'type: s4') });
  repo.gc();
  const cwd = tempDir(t);

  const ok = await runCli(['validate', '--repo', repo.dir, '--ref', 'v1', '--dir', 'config'], { cwd });
  t.equal(ok.code, 0);
  t.equal(ok.stdout, `${SUMMARY} (v1 ${first.slice(0, 12)}: config/setops.yaml)\n`);

  const head = await runCli(['validate', '--repo', repo.dir, '--dir', 'config'], { cwd });
  t.equal(head.code, 1, '--ref defaults to HEAD, which is broken');
  t.match(head.stderr, /^config\/setops\.yaml:\d+:\d+: \/spec\/type: type must be one of .*got "s4"; did you mean "s3"\?\n/);

  const bare = repo.bareClone();
  const viaBare = await runCli(['validate', '--repo', bare, '--ref', first.slice(0, 8), '--dir', 'config'], { cwd });
  t.equal(viaBare.code, 0, 'bare clone and short SHA');

  const rel = await runCli(['validate', '--repo', '.', '--ref', 'v1', '--dir', 'config'], { cwd: repo.dir });
  t.equal(rel.code, 0, '--repo relative to the cwd');
});

t.test('unreadable sources are clear errors with exit 1', async (t) => {
  const repo = gitRepo(t, { 'a.yaml': 'x: 1\n' });
  const cwd = tempDir(t);
  const cases: [string[], RegExp][] = [
    [['validate', 'missing-dir'], /^error: .*missing-dir: no such directory; give the directory that holds the manifests\n$/],
    [['validate', '--repo', repo.dir, '--ref', 'nope'], /^error: .*: ref "nope" does not exist \(no branch, tag or commit by that name\)\n$/],
    [['validate', '--repo', cwd], /^error: .*: not a git repository/],
    [['validate', '--repo', repo.dir, '--dir', 'nothing'], /^error: .*directory "nothing" does not exist in HEAD/],
    [['validate', 'a', '--repo', repo.dir], /^error: give either a directory \("a"\) or --repo, not both\n/],
    [['validate', '--ref', 'main'], /^error: --ref needs --repo PATH/],
    [['validate', '--format', 'xml'], /^error: --format must be text or json, got "xml"/],
    [['validate', '--bogus'], /^error: unknown option --bogus; validate takes --repo, --ref, --dir, --format, --help\n/],
  ];
  for (const [argv, expected] of cases) {
    const r = await runCli(argv, { cwd });
    t.equal(r.code, 1, argv.join(' '));
    t.match(r.stderr, expected, argv.join(' '));
    t.notMatch(r.stderr, /\bat .*:\d+:\d+\)/, 'no stack trace');
  }
});

t.test('--help describes the sources, formats and exit codes', async (t) => {
  const r = await runCli(['validate', '--help']);
  t.equal(r.code, 0);
  t.match(r.stdout, /^Usage: setopsd validate \[DIR \| --repo PATH/);
  t.match(r.stdout, /--format/);
  t.match(r.stdout, /Exit codes: 0 valid, 1 invalid/);
});

t.test('the bundled examples validate (local, and aws when present)', async (t) => {
  const r = await runCli(['validate', 'examples/setops.yaml'], { cwd: repoRoot });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, `${SUMMARY} (examples/setops.yaml)\n`);
  if (existsSync(join(repoRoot, 'examples/aws'))) {
    const aws = await runCli(['validate', 'examples/aws'], { cwd: repoRoot });
    t.equal(aws.code, 0, aws.stderr);
    t.match(aws.stdout, /^valid: 1 organization, /);
  }
  const all = await runCli(['validate', 'examples'], { cwd: repoRoot });
  t.equal(all.code, 0, 'examples/ as a whole is valid too: ' + all.stderr);
});

t.test('the real executable: exit codes of a process', async (t) => {
  const cwd = tempDir(t);
  writeFileSync(join(cwd, 'bad.yaml'), 'apiVersion: setopsd/v1\nkind: App\n');
  const run = (args: string[]) =>
    spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), join(repoRoot, 'src/cli/run.ts'), ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  const ok = run(['validate', join(repoRoot, 'examples/setops.yaml')]);
  t.equal(ok.status, 0, ok.stderr);
  t.match(ok.stdout, /^valid: /);
  const bad = run(['validate', '.']);
  t.equal(bad.status, 1);
  t.match(bad.stderr, /^bad\.yaml:1:1: \/: missing required field "metadata"\n/);
});

t.test('a source without any manifest file is an error, not an empty valid config', async (t) => {
  const cwd = tempDir(t);
  writeFileSync(join(cwd, 'README.md'), '# not a manifest');
  const r = await runCli(['validate', '.'], { cwd });
  t.equal(r.code, 1);
  t.equal(r.stderr, 'error: .: no manifest files (*.yaml, *.yml) found; give the directory that holds the manifests\n');
  const repo = gitRepo(t, { 'config/a.yaml': 'x: 1\n', 'docs/readme.md': 'x' });
  const g = await runCli(['validate', '--repo', repo.dir, '--dir', 'docs'], { cwd });
  t.equal(g.code, 1);
  t.match(g.stderr, /^error: .* at HEAD in docs\/: no manifest files/);
});

t.test('CRLF line endings: positions are still exact', async (t) => {
  const cwd = tempDir(t);
  const broken = example.replace('type: redis', 'type: memcached').replace('scale: 3', 'scale: 30');
  t.not(broken, example);
  writeFileSync(join(cwd, 'a.yaml'), broken.replace(/\n/g, '\r\n'));
  const lf = tempDir(t);
  writeFileSync(join(lf, 'a.yaml'), broken);
  const crlf = await runCli(['validate', '.'], { cwd });
  const plain = await runCli(['validate', '.'], { cwd: lf });
  t.equal(plain.code, 1);
  t.match(plain.stderr, /^a\.yaml:\d+:\d+: /);
  t.equal(crlf.stderr, plain.stderr, 'same lines and columns');
  const valid = tempDir(t);
  writeFileSync(join(valid, 'a.yaml'), example.replace(/\n/g, '\r\n'));
  t.equal((await runCli(['validate', '.'], { cwd: valid })).code, 0);
});
