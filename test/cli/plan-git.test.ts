import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/deps.js';
import { gitRepo } from '../helpers/git.js';
import { tempDir } from '../helpers/temp.js';
import { readGitTree } from '../../src/manifests/source-git.js';
import { loadDesired } from '../../src/manifests/load.js';
import { StateStore } from '../../src/state/store.js';
import { refOf } from '../../src/model/stage-model.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'plans');

function files(name: string, side: 'desired' | 'actual', prefix = 'config/'): Record<string, string> {
  const dir = join(FIXTURES, name, side);
  return Object.fromEntries(readdirSync(dir).map((f) => [prefix + f, readFileSync(join(dir, f), 'utf8')]));
}

/** A repo whose `main` holds the base manifests and branch `feature` the override-only change. */
async function setup(t: Parameters<typeof gitRepo>[0]) {
  const repo = gitRepo(t);
  const base = repo.commit('base', { ...files('override-only-change', 'actual'), 'README.md': 'docs\n' });
  repo.branch('feature');
  repo.checkout('feature');
  const head = repo.commit('production: scale web to 5', files('override-only-change', 'desired'));
  repo.checkout('main');
  const stateDir = tempDir(t);
  const source = await readGitTree({ repo: repo.dir, ref: 'main', dir: 'config' });
  const r = loadDesired(source);
  if (!r.ok) throw new Error('invalid fixture');
  for (const model of r.value.stages) await new StateStore(stateDir).write(refOf(model), model);
  return { repo, base, head, stateDir };
}

t.test('plan --repo --ref plans a commit; state from --state-dir', async (t) => {
  const { repo, stateDir } = await setup(t);
  const main = await runCli(['plan', '--detailed-exitcode', '--repo', repo.dir, '--ref', 'main', '--dir', 'config', '--state-dir', stateDir]);
  t.equal(main.code, 0, main.stderr);
  const feature = await runCli(['plan', '--detailed-exitcode', '--repo', repo.dir, '--ref', 'feature', '--dir', 'config', '--state-dir', stateDir, '--format', 'json']);
  t.equal(feature.code, 2);
  const doc = JSON.parse(feature.stdout) as { source: { ref: string; commit: string } };
  t.same(doc.source, { ref: 'feature', commit: repo.revParse('feature') });
});

t.test('git source without --state-dir uses SETOPSD_STATE_DIR', async (t) => {
  const { repo, stateDir } = await setup(t);
  const r = await runCli(['plan', '--detailed-exitcode', '--repo', repo.dir, '--ref', 'main', '--dir', 'config'], { env: { SETOPSD_STATE_DIR: stateDir } });
  t.equal(r.code, 0, 'planned against the recorded state in $SETOPSD_STATE_DIR');
});

t.test('plan --base --head lists only stages whose desired state differs and names the files', async (t) => {
  const { repo, base, head, stateDir } = await setup(t);
  // Drift in staging (recorded state differs from main) must not make staging part of a PR plan.
  const store = new StateStore(stateDir);
  const staging = (await store.read({ organization: 'acme', project: 'shop', stage: 'staging' })).model!;
  staging.apps.web!.scale = 7;
  await store.write(refOf(staging), staging);

  const text = await runCli(['plan', '--detailed-exitcode', '--repo', repo.dir, '--base', 'main', '--head', 'feature', '--dir', 'config', '--state-dir', stateDir]);
  t.equal(text.code, 2);
  t.equal(
    text.stdout,
    [
      'acme/shop/production (local engine, state serial 1)',
      '  ~ app/web resources.memory: 1024 → 2048',
      '    from apps.yaml',
      '  ~ app/web scale: 3 → 5',
      '    from apps.yaml',
      '  acme/shop/production: 0 to create, 2 to update, 0 to replace, 0 to delete',
      '',
      'Plan: 0 to create, 2 to update, 0 to replace, 0 to delete across 1 stage (0 in sync).',
      '',
    ].join('\n'),
  );
  const md = await runCli(['plan', '--detailed-exitcode', '--repo', repo.dir, '--base', 'main', '--head', 'feature', '--dir', 'config', '--state-dir', stateDir, '--format', 'markdown']);
  t.match(md.stdout, `Source: \`feature\` (${head.slice(0, 12)}), compared with \`main\` (${base.slice(0, 12)})`);
  t.notMatch(md.stdout, /acme\/shop\/staging/);
  const json = await runCli(['plan', '--detailed-exitcode', '--repo', repo.dir, '--base', 'main', '--head', 'feature', '--dir', 'config', '--state-dir', stateDir, '--format', 'json']);
  const doc = JSON.parse(json.stdout) as { source: unknown; stages: { stage: string; files: string[]; changes: { files: string[] }[] }[] };
  t.same(doc.source, { ref: 'feature', commit: head, base: { ref: 'main', commit: base } });
  t.same(doc.stages.map((s) => [s.stage, s.files, s.changes.map((c) => c.files)]), [['production', ['apps.yaml'], [['apps.yaml'], ['apps.yaml']]]]);

  const same = await runCli(['plan', '--detailed-exitcode', '--repo', repo.dir, '--base', 'main', '--head', 'main', '--dir', 'config', '--state-dir', stateDir]);
  t.equal(same.code, 0, 'no stage differs between a commit and itself');
  t.equal(same.stdout, 'No stages to plan.\n');
});

t.test('--base/--head usage errors', async (t) => {
  const { repo } = await setup(t);
  const only = await runCli(['plan', '--detailed-exitcode', '--repo', repo.dir, '--base', 'main']);
  t.equal(only.code, 1);
  t.match(only.stderr, /--base and --head go together/);
  const noRepo = await runCli(['plan', '--detailed-exitcode', '--base', 'main', '--head', 'feature']);
  t.match(noRepo.stderr, /--base\/--head need --repo PATH/);
  const unknown = await runCli(['plan', '--detailed-exitcode', '--repo', repo.dir, '--base', 'nope', '--head', 'feature', '--dir', 'config']);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /nope/);
});
