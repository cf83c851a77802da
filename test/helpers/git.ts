import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir, type Teardown } from './temp.js';

/**
 * Helpers for tests that need real git repositories, built with the `git` command in a temp dir.
 * Author/committer identity and dates are fixed, so commit SHAs are reproducible for the same
 * sequence of operations. Every repository is removed in `t.teardown`.
 *
 * ```ts
 * const repo = gitRepo(t);
 * const c1 = repo.commit('first', { 'config/app.yaml': '...' });
 * repo.tag('v1', { message: 'release 1' });   // annotated
 * repo.gc();                                   // packfiles + packed refs
 * const bare = repo.bareClone();               // path of a bare clone
 * ```
 */

/** A git repository (working tree) in a temp dir. */
export interface TestRepo {
  /** Absolute path of the working tree. */
  dir: string;
  /** Runs `git ARGS` in the repository and returns trimmed stdout. */
  git(...args: string[]): string;
  /** Writes files (paths relative to the repo, `/` separators), creating directories; `null` deletes. */
  write(files: Record<string, string | Uint8Array | null>): void;
  /** Writes `files` (if given), stages everything and commits; returns the new commit SHA. */
  commit(message: string, files?: Record<string, string | Uint8Array | null>): string;
  /** Creates branch `name` at `from` (default HEAD) without switching to it. */
  branch(name: string, from?: string): void;
  /** Switches the working tree to an existing branch (`git switch`). */
  checkout(name: string): void;
  /** Creates a tag at `target` (default HEAD): annotated when `message` is given, else lightweight. */
  tag(name: string, opts?: { message?: string; target?: string }): void;
  /** `git gc --aggressive --prune=now`: loose objects go into a packfile, refs into packed-refs. */
  gc(): void;
  /** SHA of `rev` (`git rev-parse`). */
  revParse(rev: string): string;
  /** Makes a bare clone (`git clone --bare`) in a new temp dir (removed on teardown) and returns its path. */
  bareClone(): string;
}

/** Fixed identity and dates so the same operations give the same SHAs. */
export function gitEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: join(home, '.gitconfig'),
    GIT_AUTHOR_NAME: 'Setopsd Test',
    GIT_AUTHOR_EMAIL: 'test@setopsd.invalid',
    GIT_COMMITTER_NAME: 'Setopsd Test',
    GIT_COMMITTER_EMAIL: 'test@setopsd.invalid',
    GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z',
    GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z',
    LC_ALL: 'C',
  };
}

/**
 * Initialises a git repository (default branch `main`) in a temp dir. With `files`, makes a
 * first commit holding them.
 */
export function gitRepo(t: Teardown, files?: Record<string, string | Uint8Array>): TestRepo {
  const base = tempDir(t, 'setopsd-git-');
  const home = join(base, 'home');
  const dir = join(base, 'repo');
  mkdirSync(home);
  mkdirSync(dir);
  const env = gitEnv(home);
  const run = (cwd: string, args: string[]): string =>
    execFileSync('git', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

  run(dir, ['init', '--quiet', '--initial-branch=main']);
  run(dir, ['config', 'commit.gpgsign', 'false']);
  run(dir, ['config', 'tag.gpgsign', 'false']);
  run(dir, ['config', 'gc.auto', '0']);

  const repo: TestRepo = {
    dir,
    git: (...args) => run(dir, args),
    write(files) {
      for (const [path, content] of Object.entries(files)) {
        const abs = join(dir, ...path.split('/'));
        if (content === null) {
          rmSync(abs, { force: true, recursive: true });
          continue;
        }
        mkdirSync(dirname(abs), { recursive: true });
        writeFileSync(abs, content);
      }
    },
    commit(message, files) {
      if (files) repo.write(files);
      run(dir, ['add', '--all']);
      run(dir, ['commit', '--quiet', '--allow-empty', '-m', message]);
      return run(dir, ['rev-parse', 'HEAD']);
    },
    branch(name, from = 'HEAD') {
      run(dir, ['branch', name, from]);
    },
    checkout(name) {
      run(dir, ['switch', '--quiet', name]);
    },
    tag(name, opts = {}) {
      const target = opts.target ?? 'HEAD';
      if (opts.message !== undefined) run(dir, ['tag', '-a', name, '-m', opts.message, target]);
      else run(dir, ['tag', name, target]);
    },
    gc() {
      run(dir, ['gc', '--quiet', '--aggressive', '--prune=now']);
    },
    revParse(rev) {
      return run(dir, ['rev-parse', rev]);
    },
    bareClone() {
      const target = join(tempDir(t, 'setopsd-bare-'), 'repo.git');
      run(base, ['clone', '--quiet', '--bare', dir, target]);
      return target;
    },
  };
  if (files) repo.commit('initial', files);
  return repo;
}
