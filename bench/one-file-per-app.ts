/**
 * Benchmark (not a test): the layout many repositories use — one file per app (and per stage,
 * service, project) — at 1k and 10k apps (30k with `--sizes 1000,10000,30000`). Each step runs
 * in a fresh process, so its time and peak RSS are its own:
 *
 *   parse          read every file and `yaml` parseAllDocuments it (the baseline);
 *   validate       readDirectory + loadDesired (what `setopsd validate DIR` computes);
 *   validate-repo  readGitTree of a commit of the same files + loadDesired (`validate --repo`);
 *   plan           `setopsd plan DIR --state-dir S` in-process (the CLI's own code path) against
 *                  a state directory in which 1% of the app instances differ.
 *
 *   node --import tsx bench/one-file-per-app.ts [--runs N] [--sizes 1000,10000] [--with-30k]
 *
 * Medians of N interleaved runs; ratios against the parse of the same run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { driftedActual, generateRepo } from './gen-repo.js';
import type { Deps } from '../src/deps.js';

const self = fileURLToPath(import.meta.url);

async function child(mode: string, dir: string, stateDir: string): Promise<void> {
  // Modules first: the clock measures the work, not loading (tsx compiles the sources).
  const { parseAllDocuments } = await import('yaml');
  const { loadDesired } = await import('../src/manifests/load.js');
  const { readDirectory } = await import('../src/manifests/source-dir.js');
  const { readGitTree } = await import('../src/manifests/source-git.js');
  const { main } = await import('../src/cli/main.js');
  await import('../src/cli/commands/plan.js');
  const { pino } = await import('pino');
  if (mode === 'state') {
    // Not measured: writes the drifted actual state the plan step reads.
    const { StateStore } = await import('../src/state/store.js');
    const { refOf } = await import('../src/model/stage-model.js');
    const r = loadDesired(await readDirectory(dir));
    if (!r.ok) throw new Error(`invalid: ${JSON.stringify(r.issues.slice(0, 2))}`);
    const store = new StateStore(stateDir);
    for (const model of driftedActual(r.value).models.values()) await store.write(refOf(model), model);
    return;
  }
  const root = fileURLToPath(new URL('..', import.meta.url));
  const examples = join(root, 'examples');
  let out = '';
  const deps: Deps = {
    clock: { now: () => 0 },
    sleep: async () => {},
    log: pino({ level: 'silent' }),
    env: {},
    cwd: dir,
    stdout: { write: () => undefined }, // the plan text is not kept: its size is not what is measured
    stderr: { write: (s: string) => void (out += s) },
    isTTY: { stdout: false, stdin: false },
  };
  // Warm-up on the bundled example, not timed: what a step imports lazily (the plan command's
  // engines, croner, …) is loaded, through tsx, before the clock starts.
  if (mode === 'parse') parseAllDocuments(readFileSync(join(examples, 'setops.yaml'), 'utf8'), { uniqueKeys: false });
  else if (mode === 'validate') loadDesired(await readDirectory(examples));
  else if (mode === 'validate-repo') loadDesired(await readGitTree({ repo: root, ref: 'HEAD', dir: 'examples' }));
  else if (mode === 'plan') await main(['plan', examples, '--stage', 'acme/shop/staging', '--state-dir', join(stateDir, '..', `${basename(stateDir)}-warm`)], deps, new AbortController().signal);
  out = '';
  const start = performance.now();
  if (mode === 'plan') {
    const code = await main(['plan', '--detailed-exitcode', dir, '--state-dir', stateDir], deps, new AbortController().signal);
    if (code !== 2) throw new Error(`plan exited ${code}: ${out.slice(0, 500)}`);
  } else if (mode === 'parse') {
    const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? (e.name === '.git' ? [] : walk(join(d, e.name))) : [join(d, e.name)]));
    let docs = 0;
    for (const f of walk(dir)) docs += parseAllDocuments(readFileSync(f, 'utf8'), { uniqueKeys: false }).length;
    if (docs === 0) throw new Error('nothing parsed');
  } else {
    const source = mode === 'validate' ? await readDirectory(dir) : await readGitTree({ repo: dir, ref: 'HEAD' });
    const r = loadDesired(source);
    if (!r.ok) throw new Error(`invalid: ${JSON.stringify(r.issues.slice(0, 2))}`);
  }
  const ms = performance.now() - start;
  process.stdout.write(JSON.stringify({ ms, rssMb: process.resourceUsage().maxRSS / 1024 }) + '\n');
}

function onePerFile(apps: number): { path: string; text: string }[] {
  const projects = Math.max(1, Math.round(apps / 500));
  const repo = generateRepo({ projects, stagesPerProject: 10, pinnedAppsPerStage: 49, sharedAppsPerProject: 10 });
  const out: { path: string; text: string }[] = [];
  for (const f of repo.files) {
    f.text.split(/^---\n/m).forEach((doc, i) => {
      if (doc.trim() === '') return;
      const kind = /^kind: (\w+)/m.exec(doc)?.[1] ?? 'Doc';
      const name = /^ {2}name: (\S+)/m.exec(doc)?.[1] ?? String(i);
      const stage = /^ {2}stage: (\S+)/m.exec(doc)?.[1];
      out.push({ path: `${f.path.replace(/\.ya?ml$/, '')}/${kind.toLowerCase()}-${stage ? `${stage}-` : ''}${name}-${i}.yaml`, text: doc });
    });
  }
  return out;
}

async function parent(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, sizes: { type: 'string', default: '1000,10000' }, 'with-30k': { type: 'boolean', default: false } } });
  const sizes = values.sizes.split(',').map(Number);
  // 30,000 apps take minutes per run of every step: opt in.
  if (values['with-30k'] && !sizes.includes(30_000)) sizes.push(30_000);
  const runs = Number(values.runs);
  console.log(`node ${process.version}, ${runs} interleaved runs per size (medians), each step in its own process`);
  console.log('apps    files   step            time        ratio   peak RSS');
  for (const apps of sizes) {
    const dir = mkdtempSync(join(tmpdir(), 'setopsd-bench-ofpa-'));
    const stateDir = mkdtempSync(join(tmpdir(), 'setopsd-bench-ofpa-state-'));
    const run = (mode: string) => spawnSync(process.execPath, ['--import', 'tsx', self, '--child', mode, dir, stateDir], { encoding: 'utf8', maxBuffer: 1 << 20 });
    try {
      const files = onePerFile(apps);
      for (const f of files) {
        mkdirSync(join(dir, f.path, '..'), { recursive: true });
        writeFileSync(join(dir, f.path), f.text);
      }
      const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
      git('init', '-q');
      git('add', '-A');
      git('-c', 'user.name=bench', '-c', 'user.email=bench@setopsd.invalid', 'commit', '-qm', 'bench');
      const prepared = run('state');
      if (prepared.status !== 0) throw new Error(`state failed: ${prepared.stderr}`);
      const samples: Record<string, { ms: number[]; rss: number[] }> = { parse: { ms: [], rss: [] }, validate: { ms: [], rss: [] }, 'validate-repo': { ms: [], rss: [] }, plan: { ms: [], rss: [] } };
      for (let i = 0; i < runs; i++) {
        for (const mode of Object.keys(samples)) {
          const r = run(mode);
          if (r.status !== 0) throw new Error(`${mode} failed: ${r.stderr}`);
          const m = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number; rssMb: number };
          samples[mode]!.ms.push(m.ms);
          samples[mode]!.rss.push(m.rssMb);
        }
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const base = median(samples.parse!.ms);
      for (const [mode, s] of Object.entries(samples)) {
        console.log(`${String(apps).padEnd(7)} ${String(files.length).padEnd(7)} ${mode.padEnd(15)} ${median(s.ms).toFixed(0).padStart(6)} ms   ${(median(s.ms) / base).toFixed(2)}x   ${median(s.rss).toFixed(0).padStart(5)} MB`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(stateDir, { recursive: true, force: true });
      rmSync(`${stateDir}-warm`, { recursive: true, force: true });
    }
  }
}

const at = process.argv.indexOf('--child');
if (at >= 0) await child(process.argv[at + 1]!, process.argv[at + 2]!, process.argv[at + 3]!);
else await parent();
