/**
 * The daemon's work for a one-file commit in a large repository (10,000 apps over 200 stages by
 * default), measured on the daemon's own controller and git source: a real repository made with
 * the `git` command, `Controller.sync` reading the new commit (the blobs it has not read before),
 * loading it with the caches it keeps across revisions (parsed files by blob id, resolved stages
 * by their declarations, desired hashes by model) and enqueueing the stages whose desired hash
 * changed — the only ones it plans. Reference, in the same run: reading and loading the same
 * commit without any cache (what every commit would cost otherwise). Also the process's RSS with
 * the repository loaded, and after `--revisions` more one-file commits (each committed and
 * synced; the caches' entry counts are printed too).
 *
 *   node --expose-gc --import tsx bench/replan.ts [--runs 5] [--revisions 200] [--projects 20 --stages 10 --pinned 49 --shared 10]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchRepoFromArgs, writeRepo } from './gen-repo.js';
import { Controller } from '../src/daemon/controller.js';
import { localRepoSource } from '../src/daemon/sources/local-repo.js';
import { loadDesired } from '../src/manifests/load.js';
import { readGitTree } from '../src/manifests/source-git.js';
import { testDeps } from '../test/helpers/deps.js';

const own = parseArgs({ args: process.argv.slice(2), options: { revisions: { type: 'string', default: '200' } }, strict: false });
const revisions = Number(own.values.revisions);
const { runs, repo } = benchRepoFromArgs(process.argv.slice(2).filter((a, i, all) => a !== '--revisions' && all[i - 1] !== '--revisions'));

const dir = mkdtempSync(join(tmpdir(), 'setopsd-bench-replan-'));
const repoDir = join(dir, 'repo');
const env = { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' };
const git = (...args: string[]) => execFileSync('git', args, { cwd: repoDir, env, stdio: 'pipe' });
execFileSync('git', ['init', '-q', '-b', 'main', repoDir]);
writeRepo(repoDir, repo);
git('add', '-A');
git('commit', '-qm', 'c0');
const target = repo.files.find((f) => /scale: \d+/.test(f.text))!.path;
/** Commit n: the target file with another scale. */
const commit = (n: number) => {
  const file = join(repoDir, target);
  writeFileSync(file, readFileSync(file, 'utf8').replace(/scale: \d+/, `scale: ${(n % 9) + 1}`));
  git('commit', '-qam', `c${n}`);
};

const ac = new AbortController();
let enqueued: string[] = [];
const controller = new Controller(
  { deps: testDeps(), stateDir: join(dir, 'state'), source: await localRepoSource({ repo: repoDir, branch: 'main' }) },
  (key) => enqueued.push(key),
);
/** CPU time (user + system) of each timed sync: on a shared machine, wall time also counts the waits for a core. */
const cpu: number[] = [];
const sync = async () => {
  enqueued = [];
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await controller.sync(ac.signal);
  const used = process.cpuUsage(c0);
  cpu.push((used.user + used.system) / 1000);
  return performance.now() - t0;
};
await sync();
global.gc?.();
const loaded = process.memoryUsage();

// First the many commits (so the reference's garbage below does not count), then the timed ones.
const memory: [number, NodeJS.MemoryUsage][] = [];
for (let i = 1; i <= revisions; i++) {
  commit(i);
  await sync();
  if (i % Math.max(1, Math.floor(revisions / 4)) === 0 || i === revisions) {
    global.gc?.();
    memory.push([i, process.memoryUsage()]);
  }
}
const sizes = controller.cacheSizes();
const cached: number[] = [];
cpu.length = 0;
let changedStages = 0;
for (let i = 1; i <= runs; i++) {
  commit(revisions + i);
  cached.push(await sync());
  changedStages = enqueued.length;
}
// The reference after the timed syncs, so its garbage does not land in their collections.
const full: number[] = [];
for (let i = 1; i <= runs; i++) {
  const t0 = performance.now();
  const r = loadDesired(await readGitTree({ repo: repoDir, ref: 'refs/heads/main' }, ac.signal));
  if (!r.ok) throw new Error('the generated repository is invalid');
  full.push(performance.now() - t0);
}
rmSync(dir, { recursive: true, force: true });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mb = (n: number) => `${Math.round(n / 1024 / 1024)} MB`;
const stages = controller.snapshot().stages?.size ?? 0;
process.stdout.write(`${repo.files.length} files, ${stages} stages: one-file commit → Controller.sync (read, load, hash, enqueue): median ${median(cached).toFixed(0)} ms, max ${Math.max(...cached).toFixed(0)} ms (${changedStages} stages enqueued, the only ones planned); CPU median ${median(cpu).toFixed(0)} ms; load average ${loadavg()[0]!.toFixed(1)}\n`);
process.stdout.write(`reference, the same commit read and loaded without caches: median ${median(full).toFixed(0)} ms; ratio ${(median(cached) / median(full)).toFixed(3)}x\n`);
/** RSS, and of it the V8 heap (used / reserved) and memory outside it (Buffers and other external). */
const memText = (m: NodeJS.MemoryUsage) => `${mb(m.rss)} (heap ${mb(m.heapUsed)} / ${mb(m.heapTotal)}, external ${mb(m.external)})`;
process.stdout.write(`RSS with the repository loaded: ${memText(loaded)}; after more one-file commits: ${memory.map(([n, m]) => `${n}: ${memText(m)}`).join(', ')}${global.gc ? '' : ' (run with --expose-gc for comparable figures)'}\n`);
process.stdout.write(`cache entries after ${revisions} commits: ${JSON.stringify(sizes)}\n`);
