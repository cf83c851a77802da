import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { planStage } from '../../src/reconciler/stage-plan.js';
import { planFileOf, verifyNotStale, isPlanFileText, planStageChangeset } from '../../src/reconciler/plan-file.js';
import { readPlanFile, writePlanFile } from '../../src/operations/plan-files.js';
import { PlanError, StalePlanError } from '../../src/errors.js';
import { app, service, stage } from '../helpers/models.js';
import { tempDir } from '../helpers/temp.js';

const KEY = Buffer.from('k'.repeat(32));

function samplePlans() {
  const desired = stage({ apps: { web: app({ scale: 2, env: { K: { secret: 'k' } } }) }, services: { db: service('postgresql') } });
  const actual = stage({ apps: { web: app() } });
  return [planStage(desired, { model: actual, serial: '3' }, 'local', { 'app/web': ['apps.yaml'] }), planStage(null, { model: stage({ name: 'old' }), serial: '9' }, 'local')];
}

t.test('write then read round-trips; the desired model and serials are kept', async (t) => {
  const dir = tempDir(t, 'setopsd-planfile-');
  const file = join(dir, 'plan.json');
  const plans = samplePlans();
  await writePlanFile(file, planFileOf(plans, { ref: 'main', commit: 'a'.repeat(40), root: '/repo', dir: '' }), KEY);
  const text = await readFile(file, 'utf8');
  t.ok(isPlanFileText(text));
  t.notOk(isPlanFileText('{"formatVersion":1}'));
  const read = await readPlanFile(file, KEY);
  t.equal(read.planFileVersion, 1);
  t.same(read.source, { ref: 'main', commit: 'a'.repeat(40), root: '/repo', dir: '' });
  t.same(read.stages.map((s) => [s.stage, s.actualSerial, s.desired === null]), [['staging', '3', false], ['old', '9', true]]);
  t.same(read.stages[0]!.desired, plans[0]!.desired);
  t.same(planStageChangeset(read.stages[0]!).changes, plans[0]!.changeset.changes);
  t.notMatch(text, /"secret"\s*:\s*"k"[^}]*value/, 'no secret value (there is none in the model)');
});

t.test('verifyNotStale names the stage and both serials', async (t) => {
  const [p] = samplePlans();
  const file = planFileOf([p!], { root: '/r', dir: '' });
  t.doesNotThrow(() => verifyNotStale(file.stages[0]!, { model: null, serial: '3' }));
  let caught: unknown;
  try {
    verifyNotStale(file.stages[0]!, { model: null, serial: '4' });
  } catch (err) {
    caught = err;
  }
  t.ok(caught instanceof StalePlanError);
  t.match(caught, { code: 'E_STALE_PLAN', message: /^stage acme\/shop\/staging: the plan is stale: it was made against state serial 3, but the stage is now at serial 4/ });
});

t.test('readPlanFile rejects what is not a valid plan file with a clear message', async (t) => {
  const dir = tempDir(t, 'setopsd-planfile-');
  const cases: [string, string, RegExp][] = [
    ['not-json', 'hello', /not-json.json: not a valid setopsd plan file: it is not JSON/],
    ['json-plan', JSON.stringify({ formatVersion: 1, stages: [] }), /planFileVersion is missing/],
    ['future', JSON.stringify({ planFileVersion: 2 }), /plan file version 2 is not supported/],
    ['no-stages', JSON.stringify({ planFileVersion: 1, formatVersion: 1, source: { ref: null, commit: null, root: '/', dir: '' } }), /stages must be a list/],
  ];
  for (const [name, text, message] of cases) {
    const file = join(dir, `${name}.json`);
    await writeFile(file, text);
    await t.rejects(readPlanFile(file, KEY), { code: 'E_PLAN_FILE', message }, name);
  }
  await t.rejects(readPlanFile(join(dir, 'missing.json'), KEY), { code: 'E_PLAN_FILE', message: /missing.json: cannot read the plan file: ENOENT/ });

  const file = join(dir, 'edited.json');
  const plan = planFileOf(samplePlans(), { root: '/r', dir: '' });
  plan.stages[0]!.desired!.apps.web!.scale = 16;
  await writeFile(file, JSON.stringify(plan));
  const err = await readPlanFile(file, KEY).catch((e: unknown) => e);
  t.ok(err instanceof PlanError);
  t.match(err, { message: /stage acme\/shop\/staging: the desired model does not match its desiredHash; the plan file was edited/ });
});
