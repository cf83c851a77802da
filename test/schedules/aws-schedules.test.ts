/**
 * Scheduled tasks on AWS: the inline program (real @pulumi/aws classes under Pulumi mocks) builds
 * one EventBridge Scheduler schedule per app schedule, starting the app's task definition with the
 * command as a container override, and one least-privilege role per app (RunTask of that family in
 * that cluster, PassRole of its task roles to ECS only). Five-field cron becomes EventBridge's
 * six-field form; what EventBridge cannot express is refused before anything is built.
 */
import * as pulumi from '@pulumi/pulumi';
import t from 'tap';
import { eventBridgeCron } from '../../src/providers/aws/program/eventbridge-cron.js';
import { programProblems } from '../../src/providers/aws/program/validate.js';
import { MockAws, readable } from '../providers/aws/program/mocks.js';
import { AWS_ORG, IMAGE } from '../providers/aws/program/edge-cases.js';
import { app, stage } from '../helpers/models.js';

/** Policies and inputs as the mocks record them: JSON text, or already parsed by `readable`. */
const asJson = (v: unknown): any => (typeof v === 'string' ? JSON.parse(v) : v);

const mock = new MockAws();
await pulumi.runtime.setMocks(mock, 'setops-init', 'init', false);
const { stageProgram } = await import('../../src/providers/aws/program/index.js');

t.test('cron translation to EventBridge Scheduler', async (t) => {
  t.equal(eventBridgeCron('*/15 * * * *'), 'cron(*/15 * * * ? *)');
  t.equal(eventBridgeCron('0 3 1 * *'), 'cron(0 3 1 * ? *)');
  t.equal(eventBridgeCron('0 8 * * 1-5'), 'cron(0 8 ? * 2-6 *)', 'Monday–Friday: 1-5 becomes 2-6 (SUN = 1)');
  t.equal(eventBridgeCron('0 8 * * 0,7'), 'cron(0 8 ? * 1,1 *)');
  t.equal(eventBridgeCron('0 8 * * MON'), 'cron(0 8 ? * MON *)');
  t.equal(eventBridgeCron('0 8 * * */2'), 'cron(0 8 ? * */2 *)', 'a step is not a day');
  t.equal(eventBridgeCron('0 8 1 * 1'), null, 'both day fields');
  const refused = programProblems(stage({ organization: AWS_ORG, apps: { web: app({ image: IMAGE, schedules: { odd: { cron: '0 8 1 * 1', command: 'x' } } }) } }));
  t.match(refused.join('\n'), /app\/web in \S+: schedule odd "0 8 1 \* 1" sets both day-of-month and day-of-week, which EventBridge Scheduler cannot express/);
});

t.test('the program builds a schedule per app schedule and one least-privilege role per app', async (t) => {
  const model = stage({
    name: 'production',
    organization: AWS_ORG,
    apps: { web: app({ image: IMAGE, schedules: { cleanup: { cron: '*/15 * * * *', command: 'bin/cleanup --old' }, report: { cron: '0 8 * * 1-5', command: ['bin/report'], timezone: 'Europe/Berlin' } } }), api: app({ image: IMAGE }) },
  });
  mock.reset('eu-west-1');
  await pulumi.runtime.setMocks(mock, 'setops-acme-shop', 'production', false);
  await pulumi.runtime.runInPulumiStack(async () => stageProgram(model, {})());
  await pulumi.runtime.disconnect();
  const resources = mock.resources.map(readable);
  const schedules = resources.filter((r) => r.type === 'aws:scheduler/schedule:Schedule');
  t.same(schedules.map((r) => r.name), ['app-web-schedule-cleanup', 'app-web-schedule-report'], 'only the app with schedules gets them');
  const cleanup = schedules[0]!.inputs as { scheduleExpression: string; scheduleExpressionTimezone: string; flexibleTimeWindow: unknown; target: { input: string; ecsParameters: { launchType: string; taskCount: number; networkConfiguration: { assignPublicIp: boolean }; group: string } } };
  t.equal(cleanup.scheduleExpression, 'cron(*/15 * * * ? *)');
  t.equal(cleanup.scheduleExpressionTimezone, 'UTC');
  t.same(asJson(cleanup.target.input), { containerOverrides: [{ name: 'web', command: ['/bin/sh', '-c', 'bin/cleanup --old'] }] });
  t.match(cleanup.target.ecsParameters, { launchType: 'FARGATE', taskCount: 1, networkConfiguration: { assignPublicIp: false }, group: 'schedule:cleanup' });
  t.match(schedules[1]!.inputs, { target: { ecsParameters: { group: 'schedule:report' } } }, 'the ECS task group names the schedule: task list finds its runs by it');
  t.match(schedules[1]!.inputs, { scheduleExpression: 'cron(0 8 ? * 2-6 *)', scheduleExpressionTimezone: 'Europe/Berlin' });

  const role = resources.find((r) => r.name === 'app-web-scheduler-role')!;
  t.same(asJson(role.inputs.assumeRolePolicy).Statement[0].Principal, { Service: 'scheduler.amazonaws.com' });
  const policy = asJson(resources.find((r) => r.name === 'app-web-scheduler-policy')!.inputs.policy) as { Statement: { Action: string[]; Resource: string[]; Condition: unknown }[] };
  t.same(policy.Statement.map((s) => s.Action), [['ecs:RunTask'], ['iam:PassRole']], 'nothing but RunTask and PassRole');
  t.match(policy.Statement[0]!.Resource[0], /^arn:aws:ecs:eu-west-1:123456789012:task-definition\/.*web.*:\*$/, 'RunTask of the app\'s task definition family only');
  t.match(policy.Statement[1]!.Condition, { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
  t.notOk(resources.some((r) => r.name === 'app-api-scheduler-role'), 'no role for an app without schedules');
});
