import t from 'tap';
import { runCli } from '../helpers/deps.js';
import { gitRepo } from '../helpers/git.js';
import { tempDir } from '../helpers/temp.js';
import { excludedByDefault, globProblem, isSelected } from '../../src/manifests/select.js';
import { loadDesired, type ParseCache } from '../../src/manifests/load.js';
import { readGitTree } from '../../src/manifests/source-git.js';

/**
 * Which files are manifests: manifests at the root of a repository live beside CI files
 * (`.github/workflows/*.yml`, `.gitlab-ci.yml`), `node_modules/` and other tools' YAML. Real git
 * repositories made by `git`; every source (directory, `--repo`, the daemon's) goes through
 * the same `loadDesired`.
 */
const ORG = (manifests = '') => `apiVersion: setopsd/v1
kind: Organization
metadata: { name: acme }
spec:
  provider: local
${manifests}---
apiVersion: setopsd/v1
kind: Project
metadata: { name: shop }
---
apiVersion: setopsd/v1
kind: Stage
metadata: { name: staging, project: shop }
`;
const APP = `apiVersion: setopsd/v1
kind: App
metadata: { name: web, project: shop }
spec:
  command: node server.js
`;
const WORKFLOW = `name: setopsd plan
on:
  pull_request:
jobs:
  plan:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: npx setopsd plan --repo . --ref "$GITHUB_SHA" --format markdown
`;
const GITLAB = `stages: [plan]
plan:
  stage: plan
  script: [npx setopsd plan --format markdown]
`;
const OPENAPI = `openapi: 3.1.0
info: { title: shop, version: '1' }
paths: {}
`;

t.test('a repository with .github/workflows/*.yml, .gitlab-ci.yml and node_modules/ at its root: only manifests are read', async (t) => {
  const repo = gitRepo(t);
  repo.commit('manifests beside CI files', {
    'setops.yaml': ORG(),
    'apps/web.yaml': APP,
    '.github/workflows/plan.yml': WORKFLOW,
    '.github/dependabot.yml': 'version: 2\nupdates: []\n',
    '.gitlab-ci.yml': GITLAB,
    '.pre-commit-config.yaml': 'repos: []\n',
    'node_modules/some-package/action.yml': 'name: x\n',
    'apps/.drafts/old.yaml': 'not: a manifest\n',
  });
  const git = await runCli(['validate', '--repo', repo.dir]);
  t.equal(git.code, 0, git.stderr);
  t.match(git.stdout, /^valid: 1 organization, 1 project, 1 stage, 1 app, 0 services/);
  const dir = await runCli(['validate', repo.dir]);
  t.equal(dir.code, 0, 'the working tree as a directory: ' + dir.stderr);
  const plan = await runCli(['plan', '--repo', repo.dir, '--format', 'json', '--state-dir', tempDir(t)]);
  t.equal(plan.code, 0, plan.stderr);
  t.same((JSON.parse(plan.stdout) as { stages: { key: string; files: string[] }[] }).stages.map((s) => [s.key, s.files]), [['acme/shop/staging', ['apps/web.yaml', 'setops.yaml']]]);
});

t.test('.setopsd.yaml names include/exclude globs; without it the other YAML is read (and fails)', async (t) => {
  const repo = gitRepo(t);
  repo.commit('manifests and an OpenAPI file', { 'setops.yaml': ORG(), 'apps/web.yaml': APP, 'docs/openapi.yaml': OPENAPI });
  const without = await runCli(['validate', '--repo', repo.dir]);
  t.equal(without.code, 1, 'docs/openapi.yaml is read as a manifest');
  t.match(without.stderr, /^docs\/openapi\.yaml:1:1: \/: missing required field "kind"/m);

  repo.commit('exclude docs', { '.setopsd.yaml': 'manifests:\n  exclude: [docs/]\n' });
  t.equal((await runCli(['validate', '--repo', repo.dir])).code, 0, 'exclude: [docs/] (a directory)');
  repo.commit('include instead', { '.setopsd.yaml': 'manifests:\n  include: ["setops.yaml", "apps/**/*.yaml"]\n' });
  const included = await runCli(['validate', '--repo', repo.dir, '--format', 'json']);
  t.equal(included.code, 0, included.stdout);
  t.same((JSON.parse(included.stdout) as { counts: { apps: number } }).counts.apps, 1);
  repo.commit('include too little', { '.setopsd.yaml': 'manifests:\n  include: ["setops.yaml"]\n' });
  const narrow = await runCli(['validate', '--repo', repo.dir, '--format', 'json']);
  t.same((JSON.parse(narrow.stdout) as { counts: { apps: number } }).counts.apps, 0, 'apps/ is no longer read');
  t.equal((await runCli(['validate', repo.dir])).code, 0, 'the directory source reads .setopsd.yaml too');
});

t.test('an Organization names the globs in spec.manifests', async (t) => {
  const repo = gitRepo(t);
  repo.commit('organization excludes docs', { 'setops.yaml': ORG('  manifests:\n    exclude: ["docs/**"]\n'), 'apps/web.yaml': APP, 'docs/openapi.yaml': OPENAPI });
  const r = await runCli(['validate', '--repo', repo.dir]);
  t.equal(r.code, 0, r.stderr);
  repo.commit('organization includes only apps', { 'setops.yaml': ORG('  manifests:\n    include: ["apps/**"]\n'), 'docs/openapi.yaml': null });
  const self = await runCli(['validate', '--repo', repo.dir]);
  t.equal(self.code, 1);
  t.equal(self.stderr, 'setops.yaml:6:3: /spec/manifests: leaves out setops.yaml, the file that declares it; include that file or move the Organization\nerror: 1 problem in the manifests\n', 'one problem, no follow-ups');
});

t.test('bad globs and settings are located errors, every one, and nothing is planned', async (t) => {
  const repo = gitRepo(t);
  repo.commit('bad globs', {
    '.setopsd.yaml': 'manifests:\n  include: ["/abs/*.yaml", "../up/*.yaml", "a{b", 7]\n  exlude: [x]\nplan: {}\n',
    'setops.yaml': ORG('  manifests:\n    exclude: ["!docs/**", ""]\n'),
    'apps/web.yaml': APP,
  });
  const r = await runCli(['validate', '--repo', repo.dir]);
  t.equal(r.code, 1);
  t.equal(
    r.stderr,
    [
      '.setopsd.yaml:2:13: /manifests/include/0: "/abs/*.yaml" must be relative to the config directory; drop the leading /',
      '.setopsd.yaml:2:28: /manifests/include/1: "../up/*.yaml" leaves the config directory (..); name paths inside it',
      '.setopsd.yaml:2:44: /manifests/include/2: "a{b" has an unbalanced {}; close it or escape it',
      '.setopsd.yaml:2:51: /manifests/include/3: must be a glob (a string), got 7',
      '.setopsd.yaml:3:3: /manifests/exlude: unknown key "exlude"; the keys are include and exclude',
      '.setopsd.yaml:4:1: /plan: unknown setting "plan"; .setopsd.yaml knows manifests (include, exclude)',
      'setops.yaml:7:15: /spec/manifests/exclude/0: "!docs/**" is a negation; put the glob without ! under exclude instead',
      'setops.yaml:7:27: /spec/manifests/exclude/1: exclude[1] must not be empty',
      'error: 8 problems in the manifests',
      '',
    ].join('\n'),
  );
  const plan = await runCli(['plan', '--repo', repo.dir, '--format', 'json', '--state-dir', tempDir(t)]);
  t.equal(plan.code, 1);
  t.equal((JSON.parse(plan.stdout) as { issues: unknown[] }).issues.length, 8, 'plan --format json: the same issues as JSON');
});

t.test('the parse cache of the daemon: a changed selection drops and re-admits files', async (t) => {
  const repo = gitRepo(t);
  const c1 = repo.commit('one', { 'setops.yaml': ORG(), 'apps/web.yaml': APP, '.setopsd.yaml': 'manifests:\n  exclude: [apps/]\n' });
  const c2 = repo.commit('two', { '.setopsd.yaml': null });
  const cache: ParseCache = new Map();
  const first = loadDesired(await readGitTree({ repo: repo.dir, ref: c1 }), { cache });
  const second = loadDesired(await readGitTree({ repo: repo.dir, ref: c2 }), { cache });
  t.ok(first.ok && second.ok);
  if (!first.ok || !second.ok) return;
  t.same([first.value.counts.apps, second.value.counts.apps], [0, 1]);
});

t.test('globs and defaults (table)', async (t) => {
  for (const [path, excluded] of [
    ['.github/workflows/ci.yml', true],
    ['.gitlab-ci.yml', true],
    ['node_modules/x/action.yml', true],
    ['apps/node_modules/x.yaml', true],
    ['apps/.cache/x.yaml', true],
    ['.setopsd.yaml', true],
    ['setops.yaml', false],
    ['apps/web.yaml', false],
    ['github/ci.yml', false],
  ] as const) {
    t.equal(excludedByDefault(path), excluded, path);
  }
  t.equal(isSelected('deploy/a.yaml', [{ include: ['deploy/'] }]), true, 'a trailing / names a directory');
  t.equal(isSelected('deploy/x/a.yaml', [{ include: ['deploy/*.yaml'] }]), false, '* stays in one directory');
  t.equal(isSelected('deploy/a.yaml', [{ include: ['deploy/**'] }, { exclude: ['**/a.yaml'] }]), false, 'every selection narrows');
  t.equal(isSelected('.github/setops.yaml', [{ include: ['.github/**'] }]), false, 'the defaults hold whatever include says');
  for (const ok of ['**/*.yaml', 'deploy/', 'apps/{web,worker}.yaml', 'stages/[a-z]*.yml', 'a\\b'.replace('\\', '') ]) t.equal(globProblem(ok), undefined, ok);
  t.match(globProblem('a\\b'), /uses \\; separate directories with \//);
  t.match(globProblem('x/[ab'), /unbalanced \[\]/);
});

t.test('stage edits (clone, remove, …) open only the manifests, never the CI files beside them', async (t) => {
  const { cloneStage } = await import('../../src/operations/stage-manifests.js');
  const repo = gitRepo(t);
  // A GitHub expression YAML cannot compose: editing would fail on it if it were opened.
  const broken = 'on: push\njobs:\n  x: { run: ${{ github.sha }\n';
  repo.commit('manifests and a CI file', { 'setops.yaml': ORG(), 'apps/web.yaml': APP, '.github/workflows/broken.yml': broken });
  const change = cloneStage(await readGitTree({ repo: repo.dir, ref: 'HEAD' }), { source: 'staging', name: 'qa-1' });
  t.same(change.edits.map((e) => e.path), ['setops.yaml'], 'only the manifest with the stage is edited');
  t.ok(change.desired.stages.some((s) => s.stage.name === 'qa-1'));
});

t.test('a directory holding only CI files is no config directory (the usual wrong-directory error)', async (t) => {
  const repo = gitRepo(t);
  repo.commit('only CI', { '.github/workflows/plan.yml': WORKFLOW, '.gitlab-ci.yml': GITLAB });
  for (const argv of [['validate', repo.dir], ['validate', '--repo', repo.dir], ['plan', '--repo', repo.dir, '--state-dir', tempDir(t)]]) {
    const r = await runCli(argv);
    t.equal(r.code, 1, argv.join(' '));
    t.match(r.stderr, /no manifest files \(\*\.yaml, \*\.yml\) found; give the directory that holds the manifests/);
  }
});
