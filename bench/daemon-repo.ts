/**
 * What the daemon benchmarks share: a one-stage config repository made with the `git` command,
 * committed again with `commit(n)`, and an in-memory engine that records when each apply starts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeEngine } from '../test/operations/apply-fakes.js';

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

/** A temp dir with `repo/` holding commit c0; `commit(n)` writes revision n and commits it, returning `git` for more. */
export function benchRepo(prefix: string): { dir: string; repo: string; git: (...args: string[]) => string; commit(n: number): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const repo = join(dir, 'repo');
  const env = { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' };
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, env, stdio: 'pipe' }).toString().trim();
  const commit = (n: number) => {
    writeFileSync(join(repo, 'setops.yaml'), manifests(n));
    git('add', '-A');
    git('commit', '-qm', `c${n}`);
  };
  execFileSync('git', ['init', '-q', '-b', 'main', repo]);
  commit(0);
  return { dir, repo, git, commit };
}

/** An in-memory engine whose `starts` holds the `performance.now()` of every apply start, and `until(n)` waits for n of them. */
export function timedEngine(sleep: (ms: number) => Promise<void>) {
  const engine = fakeEngine();
  const starts: number[] = [];
  const apply = engine.apply.bind(engine);
  engine.apply = async (...a) => {
    starts.push(performance.now());
    return apply(...a);
  };
  const until = async (n: number) => {
    while (starts.length < n) await sleep(2);
  };
  return { engine, starts, until };
}
