import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { CompiledRuleStore } from '../schema/policy-rules.js';

/** Entries kept; the oldest are removed when a write finds more (each is a few KiB). */
const LIMIT = 500;

/**
 * The directory of cached compiled policy rules: `SETOPSD_CACHE_DIR`, else
 * `$XDG_CACHE_HOME/setopsd`, else `~/.cache/setopsd`; null when none can be named
 * (`SETOPSD_CACHE_DIR=off` turns the cache off). `bin/bootstrap.cjs` names its code cache the
 * same way (it runs before any of setopsd's modules, so it cannot call this).
 */
export function ruleCacheDir(env: NodeJS.ProcessEnv): string | null {
  const own = env.SETOPSD_CACHE_DIR;
  if (own === 'off') return null;
  if (own) return join(own, 'policy-rules');
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'setopsd', 'policy-rules');
  const home = env.HOME || safeHome();
  return home ? join(home, '.cache', 'setopsd', 'policy-rules') : null;
}

function safeHome(): string | null {
  try {
    return homedir() || null;
  } catch {
    return null;
  }
}

/**
 * Compiled policy rules on disk, so a command does not load ajv and compile the same rules on
 * every run (ajv is about half of a `validate` of the bundled example). Each entry is the ajv
 * standalone code of one rule, named by the hash of the rule and ajv's version. The code is run
 * as ajv runs what it compiles, so the store trusts only files it could have written itself:
 * the directory and the entry must belong to this user and be writable by nobody else;
 * anything else — and any IO error — is a miss, and the rule is compiled again. Writes are
 * atomic (temporary file, rename) and never fail the command.
 */
export function fileRuleStore(dir: string): CompiledRuleStore {
  const uid = process.getuid?.();
  const trusted = (st: { uid: number; mode: number }) => (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0;
  let dirChecked: boolean | undefined;
  const dirOk = () => {
    if (dirChecked === undefined) {
      try {
        dirChecked = trusted(statSync(dir));
      } catch {
        dirChecked = false;
      }
    }
    return dirChecked;
  };
  return {
    get(key) {
      if (!dirOk()) return undefined;
      let fd: number | undefined;
      try {
        fd = openSync(join(dir, `${key}.js`), 'r');
        if (!trusted(fstatSync(fd))) return undefined;
        return readFileSync(fd, 'utf8');
      } catch {
        return undefined;
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    },
    put(key, code) {
      try {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        dirChecked = undefined;
        if (!dirOk()) return;
        const tmp = join(dir, `.${key}.${process.pid}.tmp`);
        writeFileSync(tmp, code, { mode: 0o600 });
        renameSync(tmp, join(dir, `${key}.js`));
        prune(dir);
      } catch {
        // A cache that cannot be written is only slower.
      }
    },
  };
}

/** Keeps the newest LIMIT entries (and removes temporary files a killed run left). */
function prune(dir: string): void {
  const names = readdirSync(dir);
  if (names.length <= LIMIT) return;
  const entries = names.map((n) => {
    try {
      return { n, t: statSync(join(dir, n)).mtimeMs };
    } catch {
      return { n, t: 0 };
    }
  });
  entries.sort((a, b) => b.t - a.t);
  for (const e of entries.slice(LIMIT)) rmSync(join(dir, e.n), { force: true });
}
