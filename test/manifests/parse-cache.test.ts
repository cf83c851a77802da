/**
 * The parse cache the daemon keeps across revisions: a load with it gives exactly the models of
 * a fresh load, a changed file is parsed again while the others are reused, invalid files keep
 * their located issues, and cached documents are frozen (nothing later in the load changes them).
 */
import t from 'tap';
import { generateRepo } from '../../bench/gen-repo.js';
import { loadDesired, type ParseCache } from '../../src/manifests/load.js';
import { canonicalJson } from '../../src/model/canonical.js';
import type { SourceFiles } from '../../src/manifests/api.js';

const repo = generateRepo({ projects: 2, stagesPerProject: 4, sharedAppsPerProject: 3, pinnedAppsPerStage: 2, servicesPerProject: 5 });
const source = (files = repo.files): SourceFiles => ({ root: '/bench', dir: '', files });

t.test('with a cache: the same models as a fresh load, on the first and every later load', async (t) => {
  const cache: ParseCache = new Map();
  const fresh = canonicalJson(loadDesired(source()));
  t.equal(canonicalJson(loadDesired(source(), { cache })), fresh, 'first load fills the cache');
  t.equal(cache.size, repo.files.length);
  t.equal(canonicalJson(loadDesired(source(), { cache })), fresh, 'second load from the cache');
  t.equal(canonicalJson(loadDesired(source(), { cache })), fresh, 'and again: nothing was changed by the loads');
  const [entry] = cache.values();
  t.ok(Object.isFrozen(entry!.declared[0]), 'cached documents are frozen');
});

t.test('a changed file is parsed again, the others reused; files gone are dropped from the cache', async (t) => {
  const cache: ParseCache = new Map();
  loadDesired(source(), { cache });
  const before = new Map(cache);
  const target = repo.files.find((f) => /app/.test(f.text) && f.text.includes('scale'))!;
  const changed = repo.files.map((f) => (f === target ? { ...f, text: f.text.replace(/scale: \d+/, 'scale: 7') } : f));
  const withCache = loadDesired(source(changed), { cache });
  t.equal(canonicalJson(withCache), canonicalJson(loadDesired(source(changed))), 'same result as a fresh load of the new revision');
  const reused = [...cache.entries()].filter(([k, v]) => before.get(k) === v).length;
  t.equal(reused, repo.files.length - 1, 'every other file came from the cache');
  t.equal(cache.size, repo.files.length, 'the old version of the changed file is dropped');
});

t.test('invalid files keep their located issues when they come from the cache', async (t) => {
  const cache: ParseCache = new Map();
  const broken = [...repo.files, { path: 'zz-broken.yaml', text: 'apiVersion: setopsd/v1\nkind: App\nmetadata: { name: Bad_Name, project: p00 }\nspec: { port: 70000 }\n' }];
  const first = loadDesired(source(broken), { cache });
  const second = loadDesired(source(broken), { cache });
  t.notOk(first.ok);
  t.same(second, first);
  t.same(second, loadDesired(source(broken)));
});
