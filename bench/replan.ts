/**
 * The daemon's work for a one-file commit in a large repository (10,000 apps over 200 stages by
 * default): load the new revision with the parse cache it keeps across revisions, and find the
 * stages whose desired hash changed (the only ones it plans). Reference, in the same run: the
 * load of the same revision without a cache (what every commit would cost otherwise). Also the
 * process's RSS with the repository loaded, and after many one-file revisions.
 *
 *   node --import tsx bench/replan.ts [--runs 5] [--revisions 200] [--projects 20 --stages 10 --pinned 49 --shared 10]
 */
import { parseArgs } from 'node:util';
import { benchRepoFromArgs } from './gen-repo.js';
import { loadDesired, type ParseCache } from '../src/manifests/load.js';
import { hashOf } from '../src/model/canonical.js';
import { refOf, stageKey } from '../src/model/stage-model.js';
import type { SourceFiles } from '../src/manifests/api.js';

const own = parseArgs({ args: process.argv.slice(2), options: { revisions: { type: 'string', default: '200' } }, strict: false });
const revisions = Number(own.values.revisions);
const { runs, repo } = benchRepoFromArgs(process.argv.slice(2).filter((a, i, all) => a !== '--revisions' && all[i - 1] !== '--revisions'));
const source = (files: SourceFiles['files']): SourceFiles => ({ root: '/bench', dir: '', files });
const hashes = (files: SourceFiles['files'], cache?: ParseCache) => {
  const r = loadDesired(source(files), cache ? { cache } : {});
  if (!r.ok) throw new Error('the generated repository is invalid');
  return new Map(r.value.stages.map((m) => [stageKey(refOf(m)), hashOf(m)]));
};
const target = repo.files.findIndex((f) => /scale: \d+/.test(f.text));
const revision = (n: number) => repo.files.map((f, i) => (i === target ? { ...f, text: f.text.replace(/scale: \d+/, `scale: ${(n % 9) + 1}`) } : f));

const cache: ParseCache = new Map();
let previous = hashes(repo.files, cache);
const rssLoaded = process.memoryUsage().rss;
const cached: number[] = [];
const full: number[] = [];
let changedStages = 0;
for (let i = 1; i <= runs; i++) {
  const files = revision(i);
  let t0 = performance.now();
  const now = hashes(files, cache);
  cached.push(performance.now() - t0);
  changedStages = [...now].filter(([k, h]) => previous.get(k) !== h).length;
  previous = now;
  t0 = performance.now();
  hashes(files);
  full.push(performance.now() - t0);
}
for (let i = runs + 1; i <= runs + revisions; i++) previous = hashes(revision(i), cache);
global.gc?.();
const rssAfter = process.memoryUsage().rss;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mb = (n: number) => `${Math.round(n / 1024 / 1024)} MB`;
process.stdout.write(`${repo.files.length} files, ${repo.counts.stages ?? '?'} stages: one-file commit with the parse cache: median ${median(cached).toFixed(0)} ms (${changedStages} stages changed, the only ones planned)\n`);
process.stdout.write(`reference, the same load without the cache: median ${median(full).toFixed(0)} ms; ratio ${(median(cached) / median(full)).toFixed(2)}x\n`);
process.stdout.write(`RSS with the repository loaded: ${mb(rssLoaded)}; after ${revisions} more one-file revisions: ${mb(rssAfter)}\n`);
