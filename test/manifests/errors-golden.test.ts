import t from 'tap';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/deps.js';

/**
 * Golden error output: every directory under test/fixtures/errors holds manifests (and an
 * optional `args` file, one CLI argument per line) and `expected.txt`, the exit code, stdout and
 * stderr of `setopsd validate .` run in that directory. Regenerate with UPDATE_GOLDEN=1 and
 * review the diff.
 */
const root = fileURLToPath(new URL('../fixtures/errors/', import.meta.url));
const update = process.env.UPDATE_GOLDEN === '1';

for (const name of readdirSync(root).sort()) {
  t.test(name, async (t) => {
    const dir = join(root, name);
    const argsFile = join(dir, 'args');
    const extra = existsSync(argsFile) ? readFileSync(argsFile, 'utf8').split('\n').filter((l) => l !== '') : [];
    const r = await runCli(['validate', '.', ...extra], { cwd: dir });
    // The absolute path of the checkout is the only machine-specific part (JSON `source.root`).
    const actual = `exit: ${r.code}\nstdout:\n${r.stdout}stderr:\n${r.stderr}`.split(dir).join('<case>');
    const expectedFile = join(dir, 'expected.txt');
    if (update) writeFileSync(expectedFile, actual);
    t.ok(existsSync(expectedFile), `${name}/expected.txt exists (run with UPDATE_GOLDEN=1 to create it)`);
    if (!existsSync(expectedFile)) return;
    t.equal(actual, readFileSync(expectedFile, 'utf8'));
    t.equal(r.code, 1, 'invalid manifests exit 1');
    t.notMatch(r.stderr, /\n\s+at .*\(.*:\d+:\d+\)/, 'no stack trace');
  });
}
