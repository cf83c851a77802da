/**
 * The stage operations that write git (promote, stage clone / reset / remove) against a real git
 * repository, with the stages applied on the real local engine: promote's commit changes only
 * image fields (comments survive) and plans only those apps; a clone applies and answers on its own
 * router host; removing it plans a destroy with data loss; protected stages are refused.
 */
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { gitRepo } from '../helpers/git.js';
import { tempDir } from '../helpers/temp.js';
import { get } from '../helpers/http.js';
import { runCli } from '../helpers/deps.js';
import { cli, killMentioning, repoRoot } from './helpers.js';

const manifests = (stagingImage: string) => `# The shop: staging runs what is being tested, production what was promoted.
apiVersion: setopsd/v1
kind: Organization
metadata: { name: acme }
spec: { provider: local }
---
apiVersion: setopsd/v1
kind: Project
metadata: { name: shop }
---
apiVersion: setopsd/v1
kind: Stage
metadata: { name: staging, project: shop }
---
apiVersion: setopsd/v1
kind: Stage
metadata: { name: production, project: shop }
spec:
  after: staging
  protected: true # never removed by a commit
---
apiVersion: setopsd/v1
kind: Service
metadata: { name: uploads, project: shop }
spec: { type: s3 }
---
apiVersion: setopsd/v1
kind: App
metadata: { name: web, project: shop }
spec:
  image: registry.example/web:1.0   # the release image
  command: [node, http-app.mjs]
  workdir: apps
  public: true
  domains: [shop.example.com]
  healthCheck: { path: /health, interval: 5, startPeriod: 0 }
  env: { VERSION: base }
  links: [{ service: uploads }]
  stages:
    staging:
      image: ${stagingImage}
      env: { VERSION: staging } # staging says so
    production:
      scale: 2
---
apiVersion: setopsd/v1
kind: App
metadata: { name: worker, project: shop }
spec:
  image: registry.example/worker:1.0
  command: [node, http-app.mjs]
  workdir: apps
  healthCheck: { path: /health, interval: 5, startPeriod: 0 }
`;

const stateDir = tempDir(t, 'setopsd-stage-manifests-');
const repo = gitRepo(t);
const S = ['--state-dir', stateDir];
let head = '';
t.before(async () => {
  await symlink(join(repoRoot, 'test/fixtures/local-apps'), join(repo.dir, 'apps'));
  head = repo.commit('shop', { 'setops.yaml': manifests('registry.example/web:2.0') });
  for (const stage of ['staging', 'production']) {
    const r = await cli(['apply', '--repo', repo.dir, '--stage', stage, '--yes', ...S]);
    if (r.code !== 0) throw new Error(`apply ${stage}: ${r.stderr}${r.stdout}`);
  }
});
t.teardown(async () => {
  for (const stage of ['staging', 'production', 'pr-7']) await cli(['destroy', stage, '--yes', '--allow-data-loss', ...S]).catch(() => undefined);
  await killMentioning(stateDir);
});

t.test('promote --commit: only image fields of the target change, comments survive, the plan changes only those apps', async (t) => {
  const r = await runCli(['promote', '--from', 'staging', '--to', 'production', '--commit', 'promote-web', '--repo', repo.dir, ...S]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /committed [0-9a-f]{12} on branch promote-web: Promote web from staging to production/);
  t.equal(repo.revParse('HEAD'), head, 'the checked-out branch did not move');
  t.equal(repo.git('status', '--porcelain'), '', 'the working tree is untouched');
  const diff = repo.git('diff', '--unified=0', 'main', 'promote-web');
  const changed = diff.split('\n').filter((l) => /^[+-](?![+-]{2} )/.test(l));
  t.same(changed, ['+      image: registry.example/web:2.0'], 'one added line: the image of web on production');
  const after = repo.git('show', 'promote-web:setops.yaml');
  const web = parseAllDocuments(after).map((d) => d.toJS()).find((d) => d.kind === 'App' && d.metadata.name === 'web');
  t.same(web.spec.stages.production, { scale: 2, image: 'registry.example/web:2.0' }, 'in the production override of web');
  for (const comment of ['# The shop: staging runs', '# the release image', '# staging says so', '# never removed by a commit']) t.ok(after.includes(comment), `comment kept: ${comment}`);
  const message = repo.git('log', '-1', '--format=%B', 'promote-web');
  t.match(message, /since deployment #1 \(commit [0-9a-f]{12}\)/, 'the message names the source deployment');

  const plan = await cli(['plan', '--repo', repo.dir, '--ref', 'promote-web', '--format', 'json', ...S]);
  const stages = JSON.parse(plan.stdout).stages as { stage: string; changes: { subject: string; path?: string }[] }[];
  t.same(stages.find((s) => s.stage === 'staging')?.changes, [], 'staging unchanged');
  t.same(stages.find((s) => s.stage === 'production')?.changes.map((c) => `${c.subject} ${c.path}`), ['app/web image'], 'production: only the web image');
});

t.test('promote refuses a source that runs another commit', async (t) => {
  repo.commit('unrelated', { 'notes.txt': 'x\n' });
  const r = await runCli(['promote', '--from', 'staging', '--to', 'production', '--patch', '--repo', repo.dir, ...S]);
  t.equal(r.code, 1);
  t.match(r.stderr, /acme\/shop\/staging runs commit [0-9a-f]{12} \(deployment #1\), not [0-9a-f]{12} being promoted/);
  t.equal(r.stdout, '', 'nothing written');
});

t.test('stage clone → apply → answers on its own host; stage remove plans a destroy with data loss; protected refused', async (t) => {
  const clone = await runCli(['stage', 'clone', 'staging', 'pr-7', '--commit', 'preview-7', '--repo', repo.dir]);
  t.equal(clone.code, 0, clone.stderr);
  const text = repo.git('show', 'preview-7:setops.yaml');
  const docs = parseAllDocuments(text).map((d) => d.toJS());
  t.same(docs.find((d) => d.kind === 'Stage' && d.metadata.name === 'pr-7'), { apiVersion: 'setopsd/v1', kind: 'Stage', metadata: { name: 'pr-7', project: 'shop' }, spec: { approval: 'auto', protected: false } });
  t.same(docs.find((d) => d.kind === 'App' && d.metadata.name === 'web').spec.stages['pr-7'], { image: 'registry.example/web:2.0', env: { VERSION: 'staging' }, domains: [] }, 'the staging override, without domains');
  t.match(text, /# A clone of stage staging \(setopsd stage clone\)/, 'says where it came from');

  const apply = await cli(['apply', '--repo', repo.dir, '--ref', 'preview-7', '--stage', 'pr-7', '--yes', ...S]);
  t.equal(apply.code, 0, apply.stderr + apply.stdout);
  const port = JSON.parse(await readFile(join(stateDir, 'stages/acme/shop/pr-7/local/router.json'), 'utf8')).port as number;
  const answer = await get(port, '/', { host: 'web.pr-7.shop.localhost' });
  t.equal(answer.status, 200);
  t.match(JSON.parse(answer.body), { version: 'staging' });

  const patch = await runCli(['stage', 'remove', 'pr-7', '--patch', '--repo', repo.dir, '--ref', 'preview-7']);
  t.equal(patch.code, 0, patch.stderr);
  t.match(patch.stdout, /^--- a\/setops\.yaml\n\+\+\+ b\/setops\.yaml\n/);
  t.match(patch.stdout, /-  name: pr-7/);
  const removed = await runCli(['stage', 'remove', 'pr-7', '--commit', 'remove-7', '--repo', repo.dir, '--ref', 'preview-7']);
  t.equal(removed.code, 0, removed.stderr);
  const plan = await cli(['plan', '--repo', repo.dir, '--ref', 'remove-7', '--stage', 'pr-7', ...S]);
  t.match(plan.stdout, /- stage/, 'the plan of that commit destroys the stage');
  t.match(plan.stdout, /service\/uploads.*data loss/i, 'with data loss for its service');

  const refused = await runCli(['stage', 'remove', 'production', '--patch', '--repo', repo.dir]);
  t.equal(refused.code, 1);
  t.match(refused.stderr, /stage acme\/shop\/production is protected/);
});
