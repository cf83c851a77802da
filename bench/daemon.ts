/**
 * The daemon's reaction time: from `git commit` returning to the apply of that commit starting,
 * on a local repository (refs watched with chokidar; no polling). In-process daemon with an
 * in-memory engine, so the figure is setopsd's own latency (notice → read the tree → load →
 * plan → queue → apply start), not an engine's. Reference: the same repository read and loaded
 * once directly (`readGitTree` + `loadDesired`), which any reconciler has to do per commit.
 *
 *   node --import tsx bench/daemon.ts [--commits 20]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startDaemon } from '../src/daemon/daemon.js';
import { localRepoSource } from '../src/daemon/sources/local-repo.js';
import { loadDesired } from '../src/manifests/load.js';
import { readGitTree } from '../src/manifests/source-git.js';
import { realClock, realSleep } from '../src/sleep.js';
import type { Deps } from '../src/deps.js';
import { fakeEngine } from '../test/operations/apply-fakes.js';

const { values } = parseArgs({ options: { commits: { type: 'string', default: '20' } } });
const commits = Number(values.commits);
const dir = mkdtempSync(join(tmpdir(), 'setopsd-bench-daemon-'));
const repo = join(dir, 'repo');
const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, env: { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' } });
const manifests = (n: number) => `apiVersion: setopsd/v1
kind: Organization
metadata: { name: acme }
spec: { provider: local }
---
apiVersion: setopsd/v1
kind: Project
metadata: { name: shop, organization: acme }
---
apiVersion: setopsd/v1
kind: Stage
metadata: { name: staging, organization: acme, project: shop }
---
apiVersion: setopsd/v1
kind: App
metadata: { name: web, organization: acme, project: shop }
spec: { command: node server.js, env: { N: "${n}" } }
`;
execFileSync('git', ['init', '-q', '-b', 'main', repo]);
writeFileSync(join(repo, 'setops.yaml'), manifests(0));
git('add', '-A');
git('commit', '-qm', 'c0');

const engine = fakeEngine();
const starts: number[] = [];
const origApply = engine.apply.bind(engine);
engine.apply = async (...a) => {
  starts.push(performance.now());
  return origApply(...a);
};
const deps: Deps = { clock: realClock, sleep: realSleep, log: pino({ level: 'silent' }), env: {}, cwd: repo, stdout: process.stdout, stderr: process.stderr, isTTY: { stdout: false, stdin: false } };
const ac = new AbortController();
const daemon = await startDaemon(deps, { stateDir: join(dir, 'state'), source: await localRepoSource({ repo, branch: 'main' }), pollMs: 0, concurrency: 4, shutdownTimeoutMs: 1000, engineFactory: async () => engine }, ac.signal);
const waitFor = async (n: number) => {
  while (starts.length < n) await realSleep(2);
};
await waitFor(1);

const latencies: number[] = [];
const direct: number[] = [];
for (let i = 1; i <= commits; i++) {
  writeFileSync(join(repo, 'setops.yaml'), manifests(i));
  git('add', '-A');
  git('commit', '-qm', `c${i}`);
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
