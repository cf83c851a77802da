/**
 * `npm run bench`: the benchmarks one after another, each in its own process (they are scripts
 * that read their own options). Not a test.
 *
 *   npm run bench                          # validate, plan and local with their defaults
 *   npm run bench -- plan --runs 3         # the named benchmarks only, with these options
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCHMARKS = ['validate', 'plan', 'local', 'daemon', 'replan', 'webhook', 'router', 'wide-mapping', 'one-file-per-app', 'startup'];
const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const named = args.filter((a) => BENCHMARKS.includes(a));
const options = args.filter((a) => !BENCHMARKS.includes(a));

for (const name of named.length > 0 ? named : BENCHMARKS) {
  process.stdout.write(`\n== bench/${name}.ts ${options.join(' ')}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, `${name}.ts`), ...options], { stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`bench/${name}.ts failed (${r.signal ?? `exit ${r.status}`})\n`);
    process.exit(1);
  }
}
