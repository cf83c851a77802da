/**
 * What the daemon keeps across revisions stays bounded by the newest revision: after 100 commits
 * to a real git repository — files changed, added and deleted, stages added and removed — its
 * caches hold one parsed entry per file, one resolved stage and one desired hash per stage of the
 * newest commit, never the history. (Counts of entries, not time or RSS: `bench/replan.ts`
 * measures memory over 1,000 commits of a large repository.)
 */
import t from 'tap';
import { Controller } from '../../src/daemon/controller.js';
import { localRepoSource } from '../../src/daemon/sources/local-repo.js';
import { gitRepo } from '../helpers/git.js';
import { tempDir } from '../helpers/temp.js';
import { testDeps } from '../helpers/deps.js';

const base = `apiVersion: setopsd/v1
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
`;
const stage = (n: number) => `apiVersion: setopsd/v1
kind: Stage
metadata: { name: stage-${n}, project: shop }
---
apiVersion: setopsd/v1
kind: App
metadata: { name: pinned${n}, project: shop, stage: stage-${n} }
spec: { command: node server.js, env: { N: "${n}" } }
`;
const app = (n: number) => `apiVersion: setopsd/v1
kind: App
metadata: { name: web, project: shop }
spec: { command: node server.js, scale: ${(n % 3) + 1}, env: { REVISION: "${n}" } }
`;

t.test('100 commits: the caches hold the newest revision only', async (t) => {
  const repo = gitRepo(t, { 'setops.yaml': base, 'apps/web.yaml': app(0), 'stages/s0.yaml': stage(0) });
  const enqueued: string[][] = [];
  let batch: string[] = [];
  const controller = new Controller(
    { deps: testDeps(), stateDir: tempDir(t, 'setopsd-cache-bounds-'), source: await localRepoSource({ repo: repo.dir, branch: 'main' }) },
    (key) => batch.push(key),
  );
  const signal = new AbortController().signal;
  const sync = async () => {
    batch = [];
    await controller.sync(signal);
    enqueued.push(batch);
  };
  await sync();
  t.same(controller.cacheSizes(), { parsedFiles: 3, resolvedStages: 2, desiredHashes: 2 });

  const peaks = { parsedFiles: 0, resolvedStages: 0, desiredHashes: 0 };
  for (let n = 1; n <= 100; n++) {
    // The shared app changes every commit; a stage file is added, and the one before the last removed.
    repo.commit(`c${n}`, { 'apps/web.yaml': app(n), [`stages/s${n}.yaml`]: stage(n), ...(n >= 2 ? { [`stages/s${n - 2}.yaml`]: null } : {}) });
    await sync();
    const sizes = controller.cacheSizes();
    for (const k of Object.keys(peaks) as (keyof typeof peaks)[]) peaks[k] = Math.max(peaks[k], sizes[k]);
    if (controller.error()) t.fail(`commit ${n}: ${controller.error()!.message}`);
  }
  // Newest commit: setops.yaml, apps/web.yaml, stages/s99.yaml, stages/s100.yaml; stages staging, stage-99, stage-100.
  t.same(controller.cacheSizes(), { parsedFiles: 4, resolvedStages: 3, desiredHashes: 3 }, 'after 100 commits: the newest revision only');
  t.same(peaks, { parsedFiles: 4, resolvedStages: 3, desiredHashes: 3 }, 'never more on the way');
  t.same([...controller.snapshot().stages!.keys()].sort(), ['acme/shop/stage-100', 'acme/shop/stage-99', 'acme/shop/staging']);
  // Each commit changed every stage (the shared app) — the caches do not hide a change.
  t.same(enqueued.at(-1)!.sort(), ['acme/shop/stage-100', 'acme/shop/stage-99', 'acme/shop/staging']);
  // A commit to one stage's file: only that stage is enqueued (and so planned); the others keep their models.
  const before = controller.snapshot().stages!;
  repo.commit('one stage', { 'stages/s100.yaml': stage(100).replace('N: "100"', 'N: "changed"') });
  await sync();
  t.same(enqueued.at(-1), ['acme/shop/stage-100'], 'only the touched stage');
  const after = controller.snapshot().stages!;
  t.equal(after.get('acme/shop/staging'), before.get('acme/shop/staging'), 'an untouched stage keeps its model object (not resolved again)');
  t.not(after.get('acme/shop/stage-100'), before.get('acme/shop/stage-100'));
});
