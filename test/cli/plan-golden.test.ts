import t from 'tap';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/deps.js';
import { tempDir } from '../helpers/temp.js';
import { readDirectory } from '../../src/manifests/source-dir.js';
import { loadDesired } from '../../src/manifests/load.js';
import { StateStore } from '../../src/state/store.js';
import { refOf, type StageModel } from '../../src/model/stage-model.js';

/**
 * Golden plans: every case under test/fixtures/plans/<case>/ runs through the real loader and
 * the CLI (`setopsd plan desired/ --state-dir TMP`), with the state directory seeded from
 * actual.json. `case.json` holds the expected exit code (with --detailed-exitcode) and extra arguments.
 *
 * actual.json is generated from the case's `actual/` manifests (readable sources of the recorded
 * state) and the goldens from the CLI output, only with UPDATE_GOLDEN=1; review the diff.
 */
const ROOT = join(import.meta.dirname, '..', 'fixtures', 'plans');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
/** Every recorded stage gets this serial, so goldens are reproducible. */
const SERIAL = 3;

interface ActualFile {
  stages: { serial: number; model: StageModel }[];
}

async function actualFromManifests(dir: string): Promise<ActualFile> {
  const result = loadDesired(await readDirectory(dir));
  if (!result.ok) throw new Error(`${dir}: invalid manifests: ${JSON.stringify(result.issues)}`);
  return { stages: result.value.stages.map((model) => ({ serial: SERIAL, model })) };
}

async function seed(stateDir: string, actual: ActualFile): Promise<void> {
  const store = new StateStore(stateDir);
  for (const { serial, model } of actual.stages) for (let i = 0; i < serial; i++) await store.write(refOf(model), model);
}

/** The expected content of a golden file (rewritten first with UPDATE_GOLDEN=1). */
function golden(file: string, got: string): string {
  if (UPDATE) writeFileSync(file, got);
  return readFileSync(file, 'utf8');
}

const cases = readdirSync(ROOT).filter((c) => existsSync(join(ROOT, c, 'case.json'))).sort();

t.test('the golden cases cover issue 3', async (t) => {
  for (const c of ['first-deploy', 'scale-change', 'env-change-with-secret', 'link-added-removed', 'service-replaced', 'stage-removed', 'app-renamed', 'protected-stage-refusal', 'override-only-change', 'no-change']) {
    t.ok(cases.includes(c), c);
  }
});

for (const name of cases) {
  t.test(name, async (t) => {
    const dir = join(ROOT, name);
    const meta = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as { exit: number; args?: string[] };
    const actualPath = join(dir, 'actual.json');
    if (UPDATE) {
      const actual = existsSync(join(dir, 'actual')) ? await actualFromManifests(join(dir, 'actual')) : { stages: [] };
      writeFileSync(actualPath, JSON.stringify(actual, null, 2) + '\n');
    }
    const stateDir = tempDir(t, 'setopsd-plan-golden-');
    await seed(stateDir, JSON.parse(readFileSync(actualPath, 'utf8')) as ActualFile);
    for (const [format, file] of [['text', 'plan.txt'], ['markdown', 'plan.md'], ['json', 'plan.json']] as const) {
      const r = await runCli(['plan', '--detailed-exitcode', join(dir, 'desired'), '--state-dir', stateDir, '--format', format, ...(meta.args ?? [])]);
      t.equal(r.code, meta.exit, `${format}: exit code`);
      if (meta.exit === 1) {
        if (format === 'json') {
          // Errors are JSON too with --format json: on stdout, for a CI step to post.
          t.equal(r.stdout, golden(join(dir, 'error.json'), r.stdout), 'error.json');
          t.equal((JSON.parse(r.stdout) as { valid: boolean }).valid, false);
          t.equal(r.stderr, golden(join(dir, 'error.txt'), r.stderr), 'the same error.txt on stderr');
          break;
        }
        t.equal(r.stdout, '', 'nothing planned');
        t.equal(r.stderr, golden(join(dir, 'error.txt'), r.stderr), 'error.txt');
        continue;
      }
      t.equal(r.stderr, '', `${format}: no stderr`);
      t.equal(r.stdout, golden(join(dir, file), r.stdout), file);
      if (format === 'json') {
        const doc = JSON.parse(r.stdout) as { formatVersion: number; stages: unknown[] };
        t.equal(doc.formatVersion, 1);
      }
      t.notMatch(r.stdout, /\u001b\[/, 'no colour without a terminal');
    }
  });
}
