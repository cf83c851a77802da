/**
 * Benchmark (not a test): the start-up cost of the CLI — `setopsd validate examples/` from the
 * built package (bin/setopsd → dist/) — against `node -e 0`, in the same run. CPU time (user +
 * system, from bash's `time`, to the millisecond) and wall time, means of N interleaved runs
 * after a warm-up.
 * Target: validate ≤ 3x `node -e 0` in CPU. The built CLI starts from its bundle through a V8 code
 * cache, and the examples' Policy rules come from the rule cache (ajv compiles them when they are
 * in none): measured with both caches warm (the warm-up run fills them; what every later run on
 * a machine costs) and with both off (SETOPSD_CACHE_DIR=off: what a first run costs).
 *
 *   npm run build && node --import tsx bench/startup.ts [--runs N]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '31' } } });
const runs = Number(values.runs);
const root = fileURLToPath(new URL('..', import.meta.url));
if (!existsSync(join(root, 'dist/cli/run.js'))) {
  process.stderr.write('bench/startup.ts measures the built CLI: run `npm run build` first\n');
  process.exit(1);
}

const ruleCache = join(root, 'bench/.out/startup-cache');
/**
 * CPU seconds (user + sys) and wall seconds of one command, from bash's `time` keyword (the
 * command's own rusage, to the millisecond; GNU time prints 10 ms steps, truncated).
 */
function measure(args: string[], env: Record<string, string> = {}): { cpu: number; wall: number } {
  const script = `TIMEFORMAT='%3U %3S %3R'; { time "$@" >/dev/null 2>/tmp/setopsd-bench-startup.err; } 2>&1; exit \${PIPESTATUS[0]}`;
  const r = spawnSync('bash', ['-c', script, 'bash', process.execPath, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', SETOPSD_CACHE_DIR: ruleCache, ...env } });
  const [user, sys, wall] = r.stdout.trim().split('\n').pop()!.split(' ').map(Number);
  if (r.status !== 0 || !Number.isFinite(wall)) throw new Error(`${args.join(' ')} failed: ${r.stdout}${r.stderr}`);
  return { cpu: user! + sys!, wall: wall! };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const validate = ['bin/setopsd', 'validate', 'examples/'];
const cases: Record<string, [string[], Record<string, string>?]> = {
  'node -e 0': [['-e', '0']],
  'setopsd validate examples/': [validate],
  'setopsd validate examples/ (caches off)': [validate, { SETOPSD_CACHE_DIR: 'off' }],
  'setopsd plan examples/ --stage acme/shop/staging': [['bin/setopsd', 'plan', 'examples/', '--stage', 'acme/shop/staging', '--state-dir', join(root, 'bench/.out/startup-state')]],
};
const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, { cpu: [] as number[], wall: [] as number[] }]));
for (const [args, env] of Object.values(cases)) measure(args, env); // warm-up (file system cache, rule cache)
for (let i = 0; i < runs; i++) {
  for (const [name, [args, env]] of Object.entries(cases)) {
    const m = measure(args, env);
    samples[name]!.cpu.push(m.cpu);
    samples[name]!.wall.push(m.wall);
  }
}
const base = samples['node -e 0']!;
console.log(`node ${process.version}, ${runs} interleaved runs (means)`);
for (const [name, s] of Object.entries(samples)) {
  const cpu = mean(s.cpu);
  const wall = mean(s.wall);
  console.log(`${name.padEnd(52)} cpu ${(cpu * 1000).toFixed(0).padStart(5)} ms (${(cpu / mean(base.cpu)).toFixed(1)}x)   wall ${(wall * 1000).toFixed(0).padStart(5)} ms (${(wall / mean(base.wall)).toFixed(1)}x)`);
}
