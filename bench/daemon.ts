/**
 * The daemon's reaction time: from `git commit` returning to the apply of that commit starting,
 * on a local repository (refs watched with chokidar; no polling). In-process daemon with an
 * in-memory engine, so the figure is setopsd's own latency (notice → read the tree → load →
 * plan → queue → apply start), not an engine's. Reference: the same repository read and loaded
 * once directly (`readGitTree` + `loadDesired`), which any reconciler has to do per commit.
 *
 *   node --import tsx bench/daemon.ts [--commits 20]
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startDaemon } from '../src/daemon/daemon.js';
import { localRepoSource } from '../src/daemon/sources/local-repo.js';
import { loadDesired } from '../src/manifests/load.js';
import { readGitTree } from '../src/manifests/source-git.js';
import { realClock, realSleep } from '../src/sleep.js';
import type { Deps } from '../src/deps.js';
import { benchRepo, timedEngine } from './daemon-repo.js';

const { values } = parseArgs({ options: { commits: { type: 'string', default: '20' } } });
const commits = Number(values.commits);
const { dir, repo, commit } = benchRepo('setopsd-bench-daemon-');
const { engine, starts, until: waitFor } = timedEngine(realSleep);
const deps: Deps = { clock: realClock, sleep: realSleep, log: pino({ level: 'silent' }), env: {}, cwd: repo, stdout: process.stdout, stderr: process.stderr, isTTY: { stdout: false, stdin: false } };
const ac = new AbortController();
const daemon = await startDaemon(deps, { stateDir: join(dir, 'state'), source: await localRepoSource({ repo, branch: 'main' }), pollMs: 0, concurrency: 4, shutdownTimeoutMs: 1000, engineFactory: async () => engine }, ac.signal);
await waitFor(1);

const latencies: number[] = [];
const direct: number[] = [];
for (let i = 1; i <= commits; i++) {
  commit(i);
  const committed = performance.now();
  await waitFor(i + 1);
  latencies.push(starts[i]! - committed);
  const t0 = performance.now();
  loadDesired(await readGitTree({ repo, ref: 'main' }));
  direct.push(performance.now() - t0);
}
ac.abort();
await daemon.stopped;
rmSync(dir, { recursive: true, force: true });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const max = (xs: number[]) => Math.max(...xs);
process.stdout.write(`commit → apply start, local repository, ${commits} commits: median ${median(latencies).toFixed(0)} ms, max ${max(latencies).toFixed(0)} ms (target ≤ 1000 ms)\n`);
process.stdout.write(`reference, read + load of the same commit directly: median ${median(direct).toFixed(1)} ms; ratio ${(median(latencies) / median(direct)).toFixed(1)}x\n`);
