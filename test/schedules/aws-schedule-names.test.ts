/**
 * Names of the EventBridge Scheduler schedules on AWS (at most 64 characters): Pulumi auto-names
 * a schedule from its logical name `app-<app>-schedule-<name>` plus `-` and seven hex digits,
 * which the longest app (16) and schedule (40) names take to 78. Such a schedule gets an explicit
 * bounded name; every schedule whose auto-name fits keeps it, with the inputs it had, so none that
 * exists is replaced. The same holds for the scheduler role and policy of an app's schedules
 * without timeout (they fit for every app name the schema allows). (The inline program under
 * Pulumi mocks.)
 */
import t from 'tap';
import { AWS_NAME_RULES, awsNameProblems } from '../../src/providers/aws/program/aws-names.js';
import { stageNames } from '../../src/providers/aws/program/names.js';
import type { ScheduleModel } from '../../src/model/stage-model.js';
import { runProgram } from '../providers/aws/program/run-program.js';
import { AWS_ORG, IMAGE } from '../providers/aws/program/edge-cases.js';
import { app, stage } from '../helpers/models.js';

type Resource = { type: string; name: string; inputs: Record<string, any> };

const SCHEDULE = 'aws:scheduler/schedule:Schedule';
const LONG_APP = 'a'.repeat(16);
const LONG_SCHEDULE = 'nightly-reconciliation-of-every-invoice';
const DIRECT: ScheduleModel = { cron: '0 3 * * *', command: 'bin/reconcile' };
const TIMED: ScheduleModel = { ...DIRECT, timeout: 900 };
const find = (resources: Resource[], name: string): Resource => {
  const r = resources.find((x) => x.name === name);
  if (!r) throw new Error(`no resource ${name} among ${resources.map((x) => x.name).join(', ')}`);
  return r;
};
const shop = (apps: Record<string, Record<string, ScheduleModel>>) =>
  stage({ name: 'production', organization: AWS_ORG, apps: Object.fromEntries(Object.entries(apps).map(([n, schedules]) => [n, app({ image: IMAGE, schedules })])) });

t.test('schedules whose auto-name fits get no name input: the same resources as before', async (t) => {
  const { resources } = (await runProgram(shop({ web: { cleanup: DIRECT, report: TIMED }, [LONG_APP]: { short: DIRECT } }))) as { resources: Resource[] };
  for (const name of ['app-web-schedule-cleanup', 'app-web-schedule-report', `app-${LONG_APP}-schedule-short`]) {
    t.notOk('name' in find(resources, name).inputs, `${name}: Pulumi's auto-name`);
  }
  for (const name of ['app-web-scheduler-role', 'app-web-scheduler-policy', `app-${LONG_APP}-scheduler-role`, `app-${LONG_APP}-scheduler-policy`]) {
    t.notOk('name' in find(resources, name).inputs, `${name}: Pulumi's auto-name (at most ${name.length + 8} characters)`);
  }
});

t.test('a schedule whose auto-name would exceed 64 characters gets a bounded name, with or without timeout', async (t) => {
  const model = shop({ [LONG_APP]: { [LONG_SCHEDULE]: DIRECT, [`${LONG_SCHEDULE}s`]: TIMED } });
  const { resources } = (await runProgram(model)) as { resources: Resource[] };
  const names = stageNames(model);
  const direct = find(resources, `app-${LONG_APP}-schedule-${LONG_SCHEDULE}`);
  const timed = find(resources, `app-${LONG_APP}-schedule-${LONG_SCHEDULE}s`);
  t.equal(direct.inputs.name, names.schedule(LONG_APP, LONG_SCHEDULE));
  t.equal(timed.inputs.name, names.schedule(LONG_APP, `${LONG_SCHEDULE}s`), 'a schedule with timeout too (the same logical name and name as without)');
  t.not(direct.inputs.name, timed.inputs.name);
  for (const r of [direct, timed]) t.same(awsNameProblems(r.inputs.name, AWS_NAME_RULES.schedule), [], `${r.inputs.name} (${r.inputs.name.length})`);
  t.match(direct.inputs.target.ecsParameters, { group: `schedule:${LONG_SCHEDULE}` }, 'the task group still names the schedule: task list finds its runs');
  t.notOk('name' in find(resources, `app-${LONG_APP}-scheduler-role`).inputs, 'the scheduler role keeps its auto-name');
  t.notOk('name' in find(resources, `app-${LONG_APP}-scheduler-policy`).inputs, 'the scheduler policy keeps its auto-name');
  t.equal(resources.filter((r) => r.type === SCHEDULE).length, 2);
});

t.test('adding timeout to a long-named schedule keeps its name: the schedule changes in place', async (t) => {
  const logical = `app-${LONG_APP}-schedule-${LONG_SCHEDULE}`;
  const before = find(((await runProgram(shop({ [LONG_APP]: { [LONG_SCHEDULE]: DIRECT } }))) as { resources: Resource[] }).resources, logical);
  const after = find(((await runProgram(shop({ [LONG_APP]: { [LONG_SCHEDULE]: TIMED } }))) as { resources: Resource[] }).resources, logical);
  t.equal(after.inputs.name, before.inputs.name);
  t.not(after.inputs.target.arn, before.inputs.target.arn, 'only the target differs (a state machine instead of the cluster)');
});
