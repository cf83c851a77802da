import t from 'tap';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/deps.js';
import { tempDir } from '../helpers/temp.js';
import { planKey, readPlanFile } from '../../src/operations/plan-files.js';
import { StateStore } from '../../src/state/store.js';
import { readDirectory } from '../../src/manifests/source-dir.js';
import { loadDesired } from '../../src/manifests/load.js';
import { refOf } from '../../src/model/stage-model.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'plans');

/** A copy of a golden case's desired manifests in a temp dir, so tests may edit it. */
function configDir(t: Parameters<typeof tempDir>[0], name = 'first-deploy'): string {
  const dir = join(tempDir(t, 'setopsd-plan-cli-'), 'config');
  cpSync(join(FIXTURES, name, 'desired'), dir, { recursive: true });
  return dir;
}

/** Records the resolved models of a manifests dir as the stages' actual state. */
async function record(stateDir: string, manifests: string): Promise<void> {
  const r = loadDesired(await readDirectory(manifests));
  if (!r.ok) throw new Error('invalid fixture');
  for (const model of r.value.stages) await new StateStore(stateDir).write(refOf(model), model);
}

t.test('exit codes: 0 whenever the plan succeeds, 1 on error; changes are not a failure under bash -e', async (t) => {
  const dir = configDir(t);
  const changes = await runCli(['plan', dir]);
  t.equal(changes.code, 0, 'changes, no --detailed-exitcode');
  t.match(changes.stdout, /Plan: 22 to create/);
  const apps = join(dir, 'apps.yaml');
  writeFileSync(apps, readFileSync(apps, 'utf8').replace('port: 3000', 'port: 70000'));
  t.equal((await runCli(['plan', dir])).code, 1, 'invalid manifests');
  t.equal((await runCli(['plan', dir, '--detailed-exitcode'])).code, 1, 'invalid manifests with --detailed-exitcode');
});

t.test('--detailed-exitcode: 2 with changes, 0 in sync, state under <dir>/.setopsd by default', async (t) => {
  const dir = configDir(t);
  const first = await runCli(['plan', '--detailed-exitcode', dir]);
  t.equal(first.code, 2);
  t.match(first.stdout, /Plan: 22 to create/);
  await record(join(dir, '.setopsd'), dir);
  const again = await runCli(['plan', '--detailed-exitcode', dir]);
  t.equal(again.code, 0);
  t.match(again.stdout, /No changes: 2 stages in sync\.\n$/);
  const relative = await runCli(['plan', '--detailed-exitcode', 'config'], { cwd: join(dir, '..') });
  t.equal(relative.code, 0, 'DIR is relative to the working directory');
});

t.test('invalid manifests: located errors like validate, exit 1, nothing planned', async (t) => {
  const dir = configDir(t);
  const apps = join(dir, 'apps.yaml');
  writeFileSync(apps, readFileSync(apps, 'utf8').replace('port: 3000', 'port: 70000'));
  const stateDir = tempDir(t);
  const r = await runCli(['plan', '--detailed-exitcode', dir, '--state-dir', stateDir]);
  t.equal(r.code, 1);
  t.equal(r.stdout, '');
  t.match(r.stderr, /apps\.yaml:\d+:\d+: \/spec\/port: .*65535/);
  t.match(r.stderr, /error: 1 problem in the manifests/);
  const validate = await runCli(['validate', dir]);
  t.equal(r.stderr, validate.stderr, 'the same errors as validate');
  // A pull-request step that posts stdout as a comment gets the located errors, not nothing.
  const md = await runCli(['plan', dir, '--state-dir', stateDir, '--format', 'markdown']);
  t.equal(md.code, 1);
  t.match(md.stdout, /The manifests are invalid: nothing was planned\.\*\* 1 problem:/);
  t.match(md.stdout, /apps\.yaml:\d+:\d+: \/spec\/port: .*65535/);
  t.equal(md.stderr, validate.stderr, 'stderr as without --format markdown');
});

t.test('errors: bad --format, unknown --stage, major downgrade', async (t) => {
  const dir = configDir(t);
  const bad = await runCli(['plan', '--detailed-exitcode', dir, '--format', 'yaml']);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /--format must be text, markdown or json, got "yaml"/);
  const unknown = await runCli(['plan', '--detailed-exitcode', dir, '--stage', 'acme/shop/qa']);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /--stage acme\/shop\/qa: no such stage; known stages: acme\/shop\/production, acme\/shop\/staging/);
});

t.test('--stage selects stages by ORG/PROJECT/STAGE, PROJECT/STAGE or STAGE', async (t) => {
  const dir = configDir(t);
  for (const sel of ['acme/shop/staging', 'shop/staging', 'staging']) {
    const r = await runCli(['plan', '--detailed-exitcode', dir, '--stage', sel, '--format', 'json']);
    t.equal(r.code, 2);
    t.same((JSON.parse(r.stdout) as { stages: { stage: string }[] }).stages.map((s) => s.stage), ['staging'], sel);
  }
});

t.test('colour only on a terminal and without NO_COLOR', async (t) => {
  const dir = configDir(t);
  const tty = await runCli(['plan', '--detailed-exitcode', dir], { isTTY: { stdout: true, stdin: false } });
  t.match(tty.stdout, /\u001b\[32m\+ service\/cache/);
  const noColor = await runCli(['plan', '--detailed-exitcode', dir], { isTTY: { stdout: true, stdin: false }, env: { NO_COLOR: '1' } });
  t.notMatch(noColor.stdout, /\u001b\[/);
  const pipe = await runCli(['plan', '--detailed-exitcode', dir]);
  t.equal(noColor.stdout, pipe.stdout);
});

t.test('--out saves a plan file with desired models, serials and the source; stdout unchanged', async (t) => {
  const dir = configDir(t, 'scale-change');
  const stateDir = tempDir(t);
  await record(stateDir, join(FIXTURES, 'scale-change', 'actual'));
  await record(stateDir, join(FIXTURES, 'scale-change', 'actual'));
  const out = join(tempDir(t), 'plan.json');
  const r = await runCli(['plan', '--detailed-exitcode', dir, '--state-dir', stateDir, '--out', out, '--format', 'json']);
  t.equal(r.code, 2);
  t.match(r.stderr, /^Saved the plan to .*plan\.json; apply exactly this plan with: setopsd apply .*plan\.json\n$/);
  const file = await readPlanFile(out, await planKey(stateDir, {}, { create: false }));
  t.equal(file.planFileVersion, 1);
  t.same(file.source, { ref: null, commit: null, root: dir, dir: '' });
  t.same(file.stages.map((s) => [s.stage, s.actualSerial, s.desired?.apps.worker?.scale]), [
    ['production', '2', 2],
    ['staging', '2', 2],
  ]);
  const plan = JSON.parse(r.stdout) as { stages: Record<string, unknown>[] };
  // The renderer adds key, approval, protected (and secret markers) to what the plan file keeps.
  const kept = plan.stages.map(({ key: _k, approval: _a, protected: _p, ...s }) => s);
  t.same(file.stages.map(({ desired: _d, ...s }) => s), kept, 'the saved plan holds exactly the printed JSON plan, less what the renderer adds');
  t.same(plan.stages.map((s) => [s.key, s.approval, s.protected]), file.stages.map((s) => [`acme/shop/${s.stage}`, s.desired?.stage.approval, s.desired?.stage.protected]));
});

t.test('markdown stays under 65,000 characters for a huge plan', async (t) => {
  const dir = join(tempDir(t), 'big');
  cpSync(join(FIXTURES, 'first-deploy', 'desired'), dir, { recursive: true });
  // 120 apps whose 8 long env values all change: far more than one PR comment can hold.
  const many = (value: string): string =>
    Array.from({ length: 120 }, (_, i) =>
      `---\napiVersion: setopsd/v1\nkind: App\nmetadata:\n  name: app-${String(i).padStart(3, '0')}\n  project: shop\nspec:\n  image: ghcr.io/acme/app:1\n  env:\n${Array.from({ length: 8 }, (_, k) => `    KEY_${k}: "${value.repeat(40)}"`).join('\n')}\n`,
    ).join('');
  const stateDir = tempDir(t);
  writeFileSync(join(dir, 'many.yaml'), many('a'));
  await record(stateDir, dir);
  writeFileSync(join(dir, 'many.yaml'), many('b'));
  const text = await runCli(['plan', '--detailed-exitcode', dir, '--state-dir', stateDir]);
  t.ok(text.stdout.length > 65_000, 'the full plan is longer than a comment');
  const md = await runCli(['plan', '--detailed-exitcode', dir, '--state-dir', stateDir, '--format', 'markdown']);
  t.equal(md.code, 2);
  t.ok(md.stdout.length <= 65_000, `markdown is ${md.stdout.length} characters`);
  t.match(md.stdout, /\| \*\*Total\*\* \| \| \| 0 \| 1920 \| 0 \| 0 \| 0 \|/, 'the summary table is kept');
  t.match(md.stdout, /stage details were cut\*\* to keep this comment under 65,000 characters/);
});

t.test('--refresh on a local stage plans against the records and says the engine has no refresh', async (t) => {
  const dir = configDir(t);
  const stateDir = tempDir(t, 'setopsd-plan-refresh-');
  await record(stateDir, dir);
  const r = await runCli(['plan', '--detailed-exitcode', dir, '--refresh', '--state-dir', stateDir]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /note: refresh: the local engine has no refresh; planned against its recorded state/);
});
