/**
 * The parse cache the daemon keeps across revisions: a load with it gives exactly the models of
 * a fresh load, a changed file is parsed again while the others are reused, invalid files keep
 * their located issues, and cached documents are frozen (nothing later in the load changes them).
 */
import t from 'tap';
import { generateRepo } from '../../bench/gen-repo.js';
import { loadDesired, type ParseCache, type StageCache } from '../../src/manifests/load.js';
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

t.test('with a stage cache: untouched stages keep their model object, touched ones are resolved again, the result equals a fresh load', async (t) => {
  const cache: ParseCache = new Map();
  const stageCache: StageCache = new Map();
  const first = loadDesired(source(), { cache, stageCache });
  if (!first.ok) throw new Error('invalid');
  t.equal(stageCache.size, first.value.stages.length, 'one entry per stage');
  t.equal(canonicalJson(first), canonicalJson(loadDesired(source())), 'first load as a fresh one');
  const models = (r: typeof first) => new Map(r.value.stages.map((m) => [`${m.project.name}/${m.stage.name}`, m]));
  const before = models(first);

  // The project file of proj-001 (its stages, services and project-wide apps) changes.
  const target = repo.files.find((f) => f.path === 'projects/proj-001/project.yaml' && /scale: \d+/.test(f.text))!;
  t.ok(target, 'the project file of proj-001');
  const changed = repo.files.map((f) => (f === target ? { ...f, text: f.text.replace(/scale: \d+/, 'scale: 7') } : f));
  const second = loadDesired(source(changed), { cache, stageCache });
  if (!second.ok) throw new Error('invalid');
  t.equal(canonicalJson(second), canonicalJson(loadDesired(source(changed))), 'the same result as a fresh load of the new revision');
  const after = models(second);
  const kept = [...after].filter(([k, m]) => before.get(k) === m).map(([k]) => k);
  const touched = [...after.keys()].filter((k) => !kept.includes(k));
  t.ok(kept.length > 0 && kept.every((k) => !k.startsWith('proj-001/')), `stages of the other project keep their models (${kept.join(', ')})`);
  t.ok(touched.length > 0 && touched.every((k) => k.startsWith('proj-001/')), `only stages of proj-001 were resolved again (${touched.join(', ')})`);

  // A stage removed: its entry goes; an invalid revision resolves nothing wrongly and the next valid one recovers.
  const broken = changed.map((f) => (f === changed.find((x) => x.text.includes('kind: App')) ? { ...f, text: f.text.replace(/image: [^\n]+|command: [^\n]+/, 'port: 70000') } : f));
  t.notOk(loadDesired(source(broken), { cache, stageCache }).ok, 'an invalid revision fails');
  t.equal(canonicalJson(loadDesired(source(changed), { cache, stageCache })), canonicalJson(second), 'the valid revision after it gives the same models');
  t.equal(stageCache.size, first.value.stages.length, 'still one entry per stage');
});

t.test('cached documents keep no YAML node trees, yet an issue a later revision finds in them is located as in a fresh load', async (t) => {
  const cache: ParseCache = new Map();
  t.ok(loadDesired(source(), { cache }).ok);
  const [entry] = cache.values();
  t.notOk(Object.keys(entry!.declared[0]!.parsed).includes('doc'), 'no node tree held by the cache');
  // A new file declares an app again: the message points at the first declaration, in a cached file.
  const app = repo.files.find((f) => f.path === 'projects/proj-000/project.yaml')!;
  const name = /kind: App\nmetadata:\n  name: (\S+)/.exec(app.text)![1]!;
  const dup = [...repo.files, { path: 'zz-dup.yaml', text: `apiVersion: setopsd/v1\nkind: App\nmetadata: { name: ${name}, project: proj-000 }\nspec: { command: x }\n` }];
  const cached = loadDesired(source(dup), { cache });
  t.notOk(cached.ok);
  t.same(cached, loadDesired(source(dup)), 'the same located issues as a fresh load');
  t.match(JSON.stringify(cached), /projects\/proj-000\/project\.yaml:\d+:\d+/, 'naming the cached file with line and column');
});
