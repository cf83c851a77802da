/**
 * `setopsd show PLANFILE [--format text|markdown|json]` renders a saved plan as `plan` printed
 * it; `show STAGE [N]` is unchanged. Real files, the real loader, a state directory seeded with
 * the golden case's recorded stages.
 */
import t from 'tap';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/deps.js';
import { tempDir } from '../helpers/temp.js';
import { readDirectory } from '../../src/manifests/source-dir.js';
import { loadDesired } from '../../src/manifests/load.js';
import { StateStore } from '../../src/state/store.js';
import { refOf } from '../../src/model/stage-model.js';

const CASE = join(import.meta.dirname, '..', 'fixtures', 'plans', 'env-change-with-secret');
const CANARY = 'canary-7f3a9c-never-printed';

async function setup(t: Parameters<typeof tempDir>[0]) {
  const dir = tempDir(t, 'setopsd-show-plan-');
  cpSync(join(CASE, 'desired'), join(dir, 'config'), { recursive: true });
  const stateDir = join(dir, 'state');
  const actual = loadDesired(await readDirectory(join(CASE, 'actual')));
  if (!actual.ok) throw new Error('invalid fixture');
  for (const model of actual.value.stages) await new StateStore(stateDir).write(refOf(model), model);
  const secrets = join(dir, 'secrets.env');
  writeFileSync(secrets, `payments-api-key=${CANARY}\nsession-key-2026=${CANARY}-2\nsession-key=${CANARY}-1\n`, { mode: 0o600 });
  const run = (argv: string[], env: Record<string, string> = {}) => runCli(argv, { cwd: dir, env: { HOME: dir, ...env } });
  return { dir, stateDir, secrets, run };
}

t.test('show PLANFILE prints the saved plan exactly as plan printed it, in every format', async (t) => {
  const { stateDir, secrets, run } = await setup(t);
  const saved = await run(['plan', 'config', '--state-dir', stateDir, '--secrets', secrets, '--out', 'reviewed.plan']);
  t.equal(saved.code, 0, saved.stderr);
  for (const format of ['text', 'markdown', 'json']) {
    const planned = await run(['plan', 'config', '--state-dir', stateDir, '--secrets', secrets, '--format', format]);
    const shown = await run(['show', 'reviewed.plan', '--state-dir', stateDir, '--format', format]);
    t.equal(shown.code, 0, shown.stderr);
    t.equal(shown.stderr, '', `${format}: the signature was checked (the plan key is in the state directory)`);
    t.equal(shown.stdout, planned.stdout, `${format}: the same output as plan`);
    t.notMatch(shown.stdout, CANARY, `${format}: no secret value`);
  }
  const json = JSON.parse((await run(['show', 'reviewed.plan', '--state-dir', stateDir, '--format', 'json'])).stdout);
  t.match(json.stages[0], { key: 'acme/shop/production', approval: 'manual', protected: true });
  t.notMatch(readFileSync(join(stateDir, '..', 'reviewed.plan'), 'utf8'), CANARY, 'nor in the plan file');
  const text = await run(['show', 'reviewed.plan', '--state-dir', stateDir]);
  t.match(text.stdout, /^acme\/shop\/production \(local engine, state serial 1\)/m, 'text by default');
});

t.test('without the plan key the plan is shown with a note; an edited plan file is refused', async (t) => {
  const { dir, stateDir, run } = await setup(t);
  t.equal((await run(['plan', 'config', '--state-dir', stateDir, '--out', 'p.plan'])).code, 0);
  const elsewhere = await run(['show', 'p.plan', '--state-dir', tempDir(t), '--format', 'markdown']);
  t.equal(elsewhere.code, 0);
  t.match(elsewhere.stdout, /^### setopsd plan/);
  t.equal(elsewhere.stderr, 'note: p.plan: signature not checked (no plan key: set SETOPSD_PLAN_KEY or --state-dir); `apply` checks it\n');

  const file = JSON.parse(readFileSync(join(dir, 'p.plan'), 'utf8'));
  file.stages[0].changes[0].command = 'setops something-else';
  writeFileSync(join(dir, 'p.plan'), JSON.stringify(file));
  const edited = await run(['show', 'p.plan', '--state-dir', stateDir]);
  t.equal(edited.code, 1);
  t.equal(edited.stdout, '');
  t.match(edited.stderr, /^error: p\.plan: the plan file does not match its signature/);
  const json = await run(['show', 'p.plan', '--state-dir', stateDir, '--format', 'json']);
  t.equal(json.code, 1);
  t.match(JSON.parse(json.stdout), { formatVersion: 1, valid: false, error: { code: 'E_PLAN_FILE' }, issues: [] });

  const usage = await run(['show', 'p.plan', '3', '--state-dir', stateDir]);
  t.equal(usage.code, 1);
  t.match(usage.stderr, /show PLANFILE takes no other argument, got: 3/);
});

t.test('show STAGE still shows a deployment; a file that is not a plan is a stage name', async (t) => {
  const { dir, stateDir, run } = await setup(t);
  writeFileSync(join(dir, 'staging'), 'notes, not a plan\n');
  const r = await run(['show', 'staging', '--state-dir', stateDir]);
  t.equal(r.code, 1, 'no deployment recorded: the stage path, not the file');
  t.match(r.stderr, /staging/);
  t.notMatch(r.stderr, /plan file/);
  const md = await run(['show', 'staging', '--state-dir', stateDir, '--format', 'markdown']);
  t.match(md.stderr, /--format must be text or json/, 'markdown is for plan files');
});

t.test('a saved pull-request plan (--base/--head) shows the files behind each change, as plan did', async (t) => {
  const { stateDir, run } = await setup(t);
  const { gitRepo } = await import('../helpers/git.js');
  const { readdirSync } = await import('node:fs');
  const repo = gitRepo(t);
  const filesOf = (side: string) => Object.fromEntries(readdirSync(join(CASE, side)).map((f) => [`config/${f}`, readFileSync(join(CASE, side, f), 'utf8')]));
  const base = repo.commit('base', filesOf('actual'));
  repo.commit('head', filesOf('desired'));
  const args = ['--repo', repo.dir, '--dir', 'config', '--base', base, '--head', 'main', '--state-dir', stateDir];
  t.equal((await run(['plan', ...args, '--out', 'pr.plan'])).code, 0);
  const planned = await run(['plan', ...args, '--format', 'markdown']);
  const shown = await run(['show', 'pr.plan', '--state-dir', stateDir, '--format', 'markdown']);
  t.equal(shown.code, 0, shown.stderr);
  t.equal(shown.stdout, planned.stdout);
  t.match(shown.stdout, /apps\.yaml/, 'the files are named');
});
