/** Which preview stages a daemon runs: branches matching --preview-branches and pull requests from webhooks, each from its own branch (a real git repository). */
import t from 'tap';
import { pino } from 'pino';
import { Previews } from '../../src/daemon/previews.js';
import { localRepoSource } from '../../src/daemon/sources/local-repo.js';
import { directorySource } from '../../src/daemon/sources/directory.js';
import { gitRepo } from '../helpers/git.js';
import { tempDir } from '../helpers/temp.js';

const manifests = (version: string, stage = 'staging') => `apiVersion: setopsd/v1
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
metadata: { name: ${stage}, project: shop }
spec: { protected: true }
---
apiVersion: setopsd/v1
kind: App
metadata: { name: web, project: shop }
spec: { command: x, env: { VERSION: ${version} } }
`;
const log = pino({ level: 'silent' });
const signal = new AbortController().signal;

t.test('--preview-branches: a matching branch with a number gets pr-<number> from its own manifests; a deleted branch none', async (t) => {
  const repo = gitRepo(t);
  repo.commit('main', { 'setops.yaml': manifests('main') });
  repo.branch('pr/12');
  repo.checkout('pr/12');
  const c12 = repo.commit('pr 12', { 'setops.yaml': manifests('twelve') });
  repo.checkout('main');
  repo.branch('feature-no-number');
  repo.branch('pr/13');
  repo.checkout('pr/13');
  repo.commit('broken', { 'setops.yaml': 'kind: [' });
  repo.checkout('main');
  const stateDir = tempDir(t, 'setopsd-previews-unit-');
  const previews = new Previews(stateDir, await localRepoSource({ repo: repo.dir, branch: 'main' }), { from: 'staging', branches: 'pr/*' }, { log });
  const stages = await previews.stages(signal);
  t.same(stages.map((s) => [s.key, s.branch, s.commit]), [['acme/shop/pr-12', 'pr/12', c12]], 'pr/13 has invalid manifests, feature-no-number has no number');
  t.match(stages[0]!.model, { stage: { name: 'pr-12', protected: false, approval: 'auto' }, apps: { web: { env: { VERSION: 'twelve' } } } });
  t.ok(previews.isPreview('acme/shop/pr-12'));
  repo.git('branch', '-D', 'pr/12');
  t.same(await previews.stages(signal), [], 'the deleted branch has no preview');
  t.ok(previews.isPreview('acme/shop/pr-12'), 'still known until its destroy succeeded');
  await previews.forget('acme/shop/pr-12');
  t.notOk(previews.isPreview('acme/shop/pr-12'));
});

t.test('pull requests from webhooks are remembered across restarts; a branch without the FROM stage is left out', async (t) => {
  const repo = gitRepo(t);
  repo.commit('main', { 'setops.yaml': manifests('main') });
  repo.branch('feature-x');
  repo.branch('other');
  repo.checkout('other');
  repo.commit('no staging', { 'setops.yaml': manifests('other', 'qa') });
  repo.checkout('main');
  const stateDir = tempDir(t, 'setopsd-previews-unit-');
  const source = await localRepoSource({ repo: repo.dir, branch: 'main' });
  const first = new Previews(stateDir, source, { from: 'staging' }, { log });
  await first.pullRequest({ kind: 'pull-request', provider: 'github', number: 7, branch: 'feature-x', action: 'opened', open: true });
  await first.pullRequest({ kind: 'pull-request', provider: 'github', number: 8, branch: 'other', action: 'opened', open: true });
  const again = new Previews(stateDir, source, { from: 'staging' }, { log });
  await again.load();
  t.same((await again.stages(signal)).map((s) => s.key), ['acme/shop/pr-7'], 'pr-8 has no staging stage to copy');
  await again.pullRequest({ kind: 'pull-request', provider: 'github', number: 7, branch: 'feature-x', action: 'closed', open: false });
  t.same(await again.stages(signal), []);
});

t.test('a pull request from a fork gets no preview, even when this repository has a branch of its name', async (t) => {
  const repo = gitRepo(t);
  repo.commit('main', { 'setops.yaml': manifests('main') });
  repo.branch('feature-x');
  const previews = new Previews(tempDir(t, 'setopsd-previews-fork-'), await localRepoSource({ repo: repo.dir, branch: 'main' }), { from: 'staging' }, { log });
  t.equal(await previews.pullRequest({ kind: 'pull-request', provider: 'github', number: 9, branch: 'feature-x', action: 'opened', open: true, fromFork: true }), false);
  t.equal(await previews.pullRequest({ kind: 'pull-request', provider: 'github', number: 10, branch: 'feature-x', action: 'opened', open: true }), true);
  t.same((await previews.stages(signal)).map((s) => s.key), ['acme/shop/pr-10']);
});

t.test('a directory source cannot have previews', async (t) => {
  const dir = tempDir(t, 'setopsd-previews-dir-');
  t.throws(() => new Previews(dir, directorySource({ dir }), { from: 'staging' }, { log }), /--preview-stages needs a git repository source with branches/);
});
