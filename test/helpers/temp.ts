import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The part of a tap `Test` these helpers use (keeps them usable from any tap version). */
export interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

/**
 * A new empty directory under the OS temp dir (mode 0700, as `mkdtemp` makes it), removed with
 * everything in it when `t` ends. tap runs teardowns last-registered first, so a cleanup
 * registered after this call (stopping processes that use the directory) runs before the
 * directory is removed.
 */
export function tempDir(t: Teardown, prefix = 'setopsd-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
