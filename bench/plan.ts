/**
 * Benchmark (not a test): `setopsd plan` of the generated 10,000-app repository (200 stages)
 * against an actual state that differs in 1% of the app instances, beside the bare YAML parse
 * of the same files, in the same run.
 *
 *   node --import tsx bench/plan.ts [--runs N] [--projects N] [--stages N] [--pinned N] [--shared N]
 *
 * Steps timed (medians of N interleaved runs after a warm-up):
 *   parse     yaml parseAllDocuments of every file (the baseline);
 *   load      loadDesired (validate + resolve);
 *   diff      plan() + safety + summary of every stage against the in-memory actual models;
 *   render    the text plan;
 *   plan      load + diff + render: what `setopsd plan` computes (target ≤ 3x parse);
 *   cli       the whole command in-process: files from disk, state read from a state dir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { parseAllDocuments } from 'yaml';
import { benchRepoFromArgs, driftedActual, writeRepo } from './gen-repo.js';
import { loadDesired } from '../src/manifests/load.js';
import { compileValidators, type Validators } from '../src/schema/validate.js';
import type { DesiredState, SourceFiles } from '../src/manifests/api.js';
import { refOf, stageKey, type StageModel } from '../src/model/stage-model.js';
import { planStage, type StagePlan } from '../src/reconciler/stage-plan.js';
import { renderText } from '../src/render/text.js';
import { StateStore } from '../src/state/store.js';
import { main } from '../src/cli/main.js';
import type { Deps } from '../src/deps.js';

const { runs, repo } = benchRepoFromArgs();
const source: SourceFiles = { root: '/bench', dir: '', files: repo.files };
const validators: Validators = compileValidators();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timed<T>(fn: () => T): [T, number] {
  const start = performance.now();
  const value = fn();
  return [value, performance.now() - start];
}

function load(): DesiredState {
  const r = loadDesired(source, { validators });
  if (!r.ok) throw new Error(`generated repository is invalid: ${JSON.stringify(r.issues.slice(0, 3))}`);
  return r.value;
}

function diffAll(desired: DesiredState, actual: Map<string, StageModel>): StagePlan[] {
  return desired.stages.map((s) => planStage(s, { model: actual.get(stageKey(refOf(s))) ?? null, serial: '1' }, 'local', desired.origins[stageKey(refOf(s))] ?? {}));
}

let docs = 0;
const parse = () => {
  docs = 0;
  for (const f of repo.files) docs += parseAllDocuments(f.text).length;
};

const desired0 = load();
const drift = driftedActual(desired0);

// The CLI run reads the files from disk and the state from a real state directory.
const work = mkdtempSync(join(tmpdir(), 'setopsd-bench-plan-'));
const configDir = join(work, 'config');
const stateDir = join(work, 'state');
writeRepo(configDir, repo);
const store = new StateStore(stateDir);
for (const model of drift.models.values()) await store.write(refOf(model), model);
let out = '';
const deps: Deps = {
  clock: { now: () => 0 },
  sleep: async () => {},
  log: pino({ level: 'silent' }),
  env: {},
  cwd: work,
  stdout: { write: (s) => void (out += s) },
  stderr: { write: (s) => void (out += s) },
  isTTY: { stdout: false, stdin: false },
};
async function cli(): Promise<number> {
  out = '';
  const code = await main(['plan', '--detailed-exitcode', configDir, '--state-dir', stateDir], deps, new AbortController().signal);
  if (code !== 2) throw new Error(`plan exited ${code}: ${out.slice(0, 500)}`);
  return code;
}

let plans: StagePlan[] = [];
let text = '';
const samples = { parse: [] as number[], load: [] as number[], diff: [] as number[], render: [] as number[], plan: [] as number[], cli: [] as number[], ratio: [] as number[], ratioCli: [] as number[] };
// Warm-up.
parse();
diffAll(load(), drift.models);
await cli();
for (let i = 0; i < runs; i++) {
  const one = async (): Promise<void> => {
    const [desired, l] = timed(load);
    const [p, d] = timed(() => diffAll(desired, drift.models));
    const [t, r] = timed(() => renderText(p, { color: false }));
    plans = p;
    text = t;
    samples.load.push(l);
    samples.diff.push(d);
    samples.render.push(r);
    samples.plan.push(l + d + r);
  };
  const c0 = performance.now();
  let p: number;
  if (i % 2 === 0) {
    p = timed(parse)[1];
    await one();
    await cli();
  } else {
    await cli();
    await one();
    p = timed(parse)[1];
  }
  const c = performance.now() - c0 - p - samples.plan[samples.plan.length - 1]!;
  samples.parse.push(p);
  samples.cli.push(c);
  samples.ratio.push(samples.plan[samples.plan.length - 1]! / p);
  samples.ratioCli.push(c / p);
}
rmSync(work, { recursive: true, force: true });

const changes = plans.reduce((n, p) => n + p.changeset.changes.length, 0);
const bytes = repo.files.reduce((n, f) => n + Buffer.byteLength(f.text), 0);
const c = repo.counts;
const fmt = (x: number) => `${x.toFixed(0).padStart(6)} ms`;
console.log(`repository: ${repo.files.length} files, ${(bytes / 1024 / 1024).toFixed(1)} MiB, ${docs} documents`);
console.log(`            ${c.projects} projects, ${c.stages} stages, ${c.apps} app manifests (${c.appInstances} app instances), ${c.services} services`);
console.log(`actual state: ${drift.changed} of ${drift.instances} app instances differ (1%) → ${changes} changes, text plan ${(text.length / 1024).toFixed(0)} KiB`);
console.log(`node ${process.version}, ${runs} interleaved runs after a warm-up (medians)`);
console.log('');
console.log(`yaml parseAllDocuments only (baseline)   ${fmt(median(samples.parse))}`);
console.log(`  load (validate + resolve)              ${fmt(median(samples.load))}`);
console.log(`  diff (plan + safety, ${String(c.stages).padStart(3)} stages)       ${fmt(median(samples.diff))}`);
console.log(`  render text                            ${fmt(median(samples.render))}`);
console.log(`plan = load + diff + render              ${fmt(median(samples.plan))}`);
console.log(`setopsd plan (CLI: disk + state dir)     ${fmt(median(samples.cli))}`);
console.log('');
console.log(`ratio plan / bare parse:                 ${median(samples.ratio).toFixed(2)}x   (target ≤ 3x)`);
console.log(`ratio CLI plan / bare parse:             ${median(samples.ratioCli).toFixed(2)}x`);
