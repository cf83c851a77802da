/**
 * Schedules with `timeout` on AWS: ECS tasks have no time limit, so EventBridge Scheduler starts a
 * Step Functions state machine per such schedule whose one Task state runs the app's task with
 * `ecs:runTask.sync` and `TimeoutSeconds` = the timeout (Step Functions stops the task when the
 * state times out). The scheduler may only start that state machine; the state machine's role
 * only what the .sync integration needs, in the stage's cluster. Schedules without `timeout`
 * keep their direct ECS target, resource for resource. (The inline program under Pulumi mocks.)
 */
import t from 'tap';
import { AWS_NAME_RULES, awsNameProblems } from '../../src/providers/aws/program/aws-names.js';
import { stageNames } from '../../src/providers/aws/program/names.js';
import type { AppModel, ScheduleModel } from '../../src/model/stage-model.js';
import { runProgram } from '../providers/aws/program/run-program.js';
import { AWS_ORG, IMAGE } from '../providers/aws/program/edge-cases.js';
import { app, stage } from '../helpers/models.js';

type Resource = { type: string; name: string; inputs: Record<string, any> };

const CLEANUP: ScheduleModel = { cron: '*/15 * * * *', command: 'bin/cleanup --old' };
const REPORT: ScheduleModel = { cron: '0 8 * * 1-5', command: ['bin/report', '--daily'], timezone: 'Europe/Berlin', timeout: 900 };
const shop = (schedules: AppModel['schedules']) => stage({ name: 'production', organization: AWS_ORG, apps: { web: app({ image: IMAGE, schedules }), api: app({ image: IMAGE }) } });
const find = (resources: Resource[], name: string): Resource => {
  const r = resources.find((x) => x.name === name);
  if (!r) throw new Error(`no resource ${name} among ${resources.map((x) => x.name).join(', ')}`);
  return r;
};
/** The ARN the mocks give a resource (see mocks.ts): what other resources' inputs refer to. */
const arnOf = (resources: Resource[], name: string): RegExp => new RegExp(`^arn:aws:[a-z]+:eu-west-1:123456789012:${name}/${name}-[0-9a-f]{8}$`);

t.test('a schedule with timeout runs its task through a state machine that stops it after the timeout', async (t) => {
  const { resources, dependsOn } = (await runProgram(shop({ cleanup: CLEANUP, report: REPORT }))) as { resources: Resource[]; dependsOn: Record<string, string[]> };
  const machines = resources.filter((r) => r.type === 'aws:sfn/stateMachine:StateMachine');
  t.same(machines.map((r) => r.name), ['app-web-schedule-report-state-machine'], 'one state machine, for the schedule with a timeout only');
  const sm = machines[0]!.inputs;
  t.equal(sm.type, 'STANDARD');
  t.match(sm.roleArn, arnOf(resources, 'app-web-schedule-runner-role'));
  const def = sm.definition as { StartAt: string; States: Record<string, any> };
  t.same(Object.keys(def.States), [def.StartAt], 'one state');
  const task = def.States[def.StartAt];
  t.match(task, { Type: 'Task', Resource: 'arn:aws:states:::ecs:runTask.sync', TimeoutSeconds: 900, End: true }, 'Run a Job (.sync), timing out after the schedule\'s timeout in seconds');
  t.notOk('Retry' in task, 'a run that timed out is not started again');

  // The same task a direct schedule starts: compare with the schedule without timeout.
  const direct = find(resources, 'app-web-schedule-cleanup').inputs.target;
  const p = task.Parameters;
  t.equal(p.Cluster, direct.arn, 'in the stage cluster');
  t.equal(p.TaskDefinition, direct.ecsParameters.taskDefinitionArn, "the app's task definition");
  t.equal(p.LaunchType, 'FARGATE');
  t.equal(p.Group, 'schedule:report', 'the ECS task group names the schedule: task list finds its runs by it');
  t.same(p.NetworkConfiguration, { AwsvpcConfiguration: { Subnets: direct.ecsParameters.networkConfiguration.subnets, SecurityGroups: direct.ecsParameters.networkConfiguration.securityGroups, AssignPublicIp: 'DISABLED' } }, 'the same network');
  t.same(p.Overrides, { ContainerOverrides: [{ Name: 'web', Command: ['bin/report', '--daily'] }] }, 'the command as the container override (exec form kept)');
  t.equal(dependsOn['app-web-schedule-report-state-machine']?.includes('app-web-schedule-runner-policy'), true, 'created after its role may run the task');

  const schedule = find(resources, 'app-web-schedule-report').inputs;
  t.match(schedule, { scheduleExpression: 'cron(0 8 ? * 2-6 *)', scheduleExpressionTimezone: 'Europe/Berlin', flexibleTimeWindow: { mode: 'OFF' } });
  t.match(schedule.target.arn, arnOf(resources, 'app-web-schedule-report-state-machine'), 'the scheduler starts the state machine');
  t.notOk('ecsParameters' in schedule.target, 'not the ECS task');
  t.same(schedule.target.retryPolicy, { maximumRetryAttempts: 0 });
  t.match(schedule.target.roleArn, arnOf(resources, 'app-web-schedule-report-scheduler-role'));
  t.equal(dependsOn['app-web-schedule-report']?.includes('app-web-schedule-report-scheduler-policy'), true, 'created after its role may start the state machine');

  const starter = find(resources, 'app-web-schedule-report-scheduler-role').inputs;
  t.same(starter.assumeRolePolicy.Statement, [{ Effect: 'Allow', Principal: { Service: 'scheduler.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } } }]);
  t.equal(starter.name, stageNames(shop({})).scheduleStarterRole('web', 'report'));
  const starterPolicy = find(resources, 'app-web-schedule-report-scheduler-policy').inputs;
  t.match(starterPolicy.role, /^app-web-schedule-report-scheduler-role-/);
  t.equal(starterPolicy.policy.Statement.length, 1, 'one statement');
  t.match(starterPolicy.policy.Statement[0], { Effect: 'Allow', Action: ['states:StartExecution'] }, 'only StartExecution');
  t.same(starterPolicy.policy.Statement[0].Resource, [schedule.target.arn], 'of that state machine only');
});

t.test("the state machine's role may do what ecs:runTask.sync needs, in the stage's cluster, and nothing else", async (t) => {
  const { resources } = (await runProgram(shop({ report: REPORT }))) as { resources: Resource[] };
  const role = find(resources, 'app-web-schedule-runner-role').inputs;
  t.same(role.assumeRolePolicy.Statement, [{ Effect: 'Allow', Principal: { Service: 'states.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } } }]);
  const statements = find(resources, 'app-web-schedule-runner-policy').inputs.policy.Statement as { Action: string[]; Resource: string[]; Condition?: Record<string, any> }[];
  const clusterArn = find(resources, 'app-web-schedule-report-state-machine').inputs.definition.States.RunTask.Parameters.Cluster;
  const byAction = (a: string) => statements.filter((s) => s.Action.includes(a));
  t.same(statements.flatMap((s) => s.Action).sort(), ['ecs:DescribeTasks', 'ecs:RunTask', 'ecs:StopTask', 'events:DescribeRule', 'events:PutRule', 'events:PutTargets', 'iam:PassRole']);
  t.same(byAction('ecs:RunTask')[0]!.Resource, ['arn:aws:ecs:eu-west-1:123456789012:task-definition/acme-shop-production-web:*'], "RunTask of the app's family");
  t.same(byAction('ecs:RunTask')[0]!.Condition, { ArnEquals: { 'ecs:cluster': clusterArn } }, 'in the stage cluster');
  for (const a of ['ecs:StopTask', 'ecs:DescribeTasks']) {
    t.same(byAction(a)[0]!.Resource, ['arn:aws:ecs:eu-west-1:123456789012:task/acme-shop-production/*'], `${a}: the cluster's tasks`);
    t.same(byAction(a)[0]!.Condition, { ArnEquals: { 'ecs:cluster': clusterArn } }, `${a}: in the stage cluster`);
  }
  for (const a of ['events:PutTargets', 'events:PutRule', 'events:DescribeRule']) {
    t.same(byAction(a)[0]!.Resource, ['arn:aws:events:eu-west-1:123456789012:rule/StepFunctionsGetEventsForECSTaskRule'], `${a}: the managed rule Step Functions watches ECS with`);
  }
  const pass = byAction('iam:PassRole')[0]!;
  t.equal(pass.Resource.length, 2);
  t.match(pass.Resource[0], /app-web-task-role/, "the app's task role");
  t.match(pass.Resource[1], /task-execution-role/, "the stage's execution role");
  t.same(pass.Condition, { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } }, 'to ECS only');
  t.notOk(JSON.stringify(statements).includes('"*"'), 'no wildcard action or resource');
  t.notOk(resources.some((r) => r.name === 'app-web-scheduler-role'), 'an app whose schedules all have a timeout gets no role that runs tasks from the scheduler');
  t.notOk(resources.some((r) => r.name.startsWith('app-api-schedule')), 'nothing for an app without schedules');
});

t.test('a schedule without timeout keeps its direct ECS target and role, whatever its neighbours', async (t) => {
  const alone = (await runProgram(shop({ cleanup: CLEANUP }))) as { resources: Resource[]; golden: string };
  const mixed = (await runProgram(shop({ cleanup: CLEANUP, report: REPORT }))) as { resources: Resource[] };
  for (const name of ['app-web-schedule-cleanup', 'app-web-scheduler-role', 'app-web-scheduler-policy']) {
    t.same(find(mixed.resources, name), find(alone.resources, name), `${name}: the same resource with the same inputs`);
  }
  const target = find(alone.resources, 'app-web-schedule-cleanup').inputs.target;
  t.match(target.arn, /:cluster\//, 'the ECS cluster is the target');
  t.match(target.ecsParameters, { launchType: 'FARGATE', taskCount: 1, group: 'schedule:cleanup' });
  t.notOk(alone.resources.some((r) => r.type === 'aws:sfn/stateMachine:StateMachine' || r.name.startsWith('app-web-schedule-runner')), 'no state machine, no runner role');
});

t.test('the explicit names of a timed schedule fit AWS for the longest app and schedule names', async (t) => {
  const long = stage({ name: 'abcdefghijkl', organization: { ...AWS_ORG, name: 'o'.repeat(32) }, project: { name: 'p'.repeat(20) } });
  const names = stageNames(long);
  const [appName, schedule] = ['a'.repeat(16), 's'.repeat(40)];
  t.same(awsNameProblems(names.scheduleStateMachine(appName, schedule), AWS_NAME_RULES.stateMachine), []);
  t.same(awsNameProblems(names.scheduleStarterRole(appName, schedule), AWS_NAME_RULES.iamRole), []);
  t.not(names.scheduleStarterRole(appName, schedule), stageNames(stage({ name: 'other', organization: AWS_ORG })).scheduleStarterRole(appName, schedule), 'IAM role names are account-wide: each stage its own');
  t.not(names.scheduleStateMachine(appName, schedule), names.scheduleStateMachine(appName, `${schedule.slice(0, 39)}x`), 'distinct where the readable part is cut');
});
