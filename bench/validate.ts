/**
 * Benchmark (not a test): validate + resolve a generated repository of 10,000 apps over 200
 * stages, against only parsing the same YAML with the `yaml` package, in the same run.
 *
 *   node --import tsx bench/validate.ts [--runs N] [--projects N] [--stages N] [--pinned N] [--shared N]
 *
 * Prints the median of N runs (after one warm-up) for each step and the ratio.
 */
import { performance } from 'node:perf_hooks';
import { LineCounter, parseAllDocuments } from 'yaml';
import { benchRepoFromArgs } from './gen-repo.js';
import { loadDesired } from '../src/manifests/load.js';
import { compileValidators, type Validators } from '../src/schema/validate.js';
import type { SourceFiles } from '../src/manifests/api.js';

const { runs, repo } = benchRepoFromArgs();
const source: SourceFiles = { root: '/bench', dir: '', files: repo.files };
let validators: Validators;
const bytes = repo.files.reduce((n, f) => n + Buffer.byteLength(f.text), 0);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function ms(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

let docs = 0;
let stages = 0;
const parseOnly = () => {
  docs = 0;
  for (const f of repo.files) docs += parseAllDocuments(f.text).length;
};
const parseToJs = () => {
  for (const f of repo.files) for (const d of parseAllDocuments(f.text, { lineCounter: new LineCounter() }) as unknown as { toJS(): unknown }[]) d.toJS();
};
const validate = () => {
  const r = loadDesired(source, { validators });
  if (!r.ok) throw new Error(`generated repository is invalid: ${JSON.stringify(r.issues.slice(0, 3))}`);
  stages = r.value.stages.length;
};

// Compiling the schemas happens once per process; it is reported, not part of the runs.
const compile = ms(() => void (validators = compileValidators()));
// Warm-up, then interleaved runs: a machine busy with other work slows all three alike, so the
// per-run ratios are steadier than ratios of separately measured medians.
parseOnly();
parseToJs();
validate();
const samples = { parse: [] as number[], toJs: [] as number[], validate: [] as number[], ratio: [] as number[], ratioJs: [] as number[] };
for (let i = 0; i < runs; i++) {
  // Alternate the order so neither side always pays for the garbage the other left behind.
  let p: number, j: number, v: number;
  if (i % 2 === 0) {
    p = ms(parseOnly);
    j = ms(parseToJs);
    v = ms(validate);
  } else {
    v = ms(validate);
    j = ms(parseToJs);
    p = ms(parseOnly);
  }
  samples.parse.push(p);
  samples.toJs.push(j);
  samples.validate.push(v);
  samples.ratio.push(v / p);
  samples.ratioJs.push(v / j);
}

const c = repo.counts;
const fmt = (x: number) => `${x.toFixed(0).padStart(6)} ms`;
console.log(`repository: ${repo.files.length} files, ${(bytes / 1024 / 1024).toFixed(1)} MiB, ${docs} documents`);
console.log(`            ${c.projects} projects, ${c.stages} stages, ${c.apps} app manifests (${c.appInstances} app instances), ${c.services} services`);
console.log(`node ${process.version}, ${runs} interleaved runs after a warm-up (medians)`);
console.log('');
console.log(`yaml parseAllDocuments only              ${fmt(median(samples.parse))}`);
console.log(`yaml parseAllDocuments + toJS            ${fmt(median(samples.toJs))}`);
console.log(`setopsd validate + resolve (loadDesired) ${fmt(median(samples.validate))}   → ${stages} stage models`);
console.log('');
console.log(`ratio validate+resolve / bare parse:     ${median(samples.ratio).toFixed(2)}x   (target ≤ 2x)`);
console.log(`ratio validate+resolve / parse + toJS:   ${median(samples.ratioJs).toFixed(2)}x`);
console.log(`schema compilation (once per process, not in the runs): ${compile.toFixed(0)} ms`);
