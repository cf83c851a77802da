import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { ScheduleModel } from '../../../model/stage-model.js';
import type { BuiltApp } from './app.js';
import type { Cluster } from './cluster.js';
import type { ProgramContext } from './context.js';
import { AWS_NAME_RULES, nameWhereAutoNameTooLong } from './aws-names.js';
import { policyDocument } from './iam.js';
import type { Network } from './network.js';
import { passTaskRoles, scheduleCommand, scheduleLogicalName, scheduleTiming, type ScheduledTaskRun } from './scheduled-task.js';
import { buildTimedSchedule, buildTimedScheduleRunner } from './timed-schedules.js';

/**
 * Scheduled tasks on AWS: one `aws.scheduler.Schedule` per schedule (time zone from the schedule,
 * default UTC); each run is an ECS task of the app's task definition (Fargate, private subnets,
 * the app's security groups) with the schedule's command as a container override, in ECS task
 * group `schedule:NAME`. Expressions EventBridge cannot express are refused by `validate.ts` first.
 *
 * A schedule without `timeout` starts the task directly, through one IAM role per app that
 * EventBridge Scheduler assumes — allowed only `ecs:RunTask` of that app's task definition family
 * in the stage's cluster and `iam:PassRole` of its task and execution roles to ECS. ECS tasks have
 * no time limit, so a schedule with `timeout` starts a Step Functions state machine instead that
 * runs the task and stops it after the timeout (`timed-schedules.ts`).
 */
export function buildSchedules(ctx: ProgramContext, network: Network, cluster: Cluster, apps: BuiltApp[]): void {
  for (const app of apps) {
    const schedules = Object.entries(app.model.schedules ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
    if (schedules.length === 0) continue;
    const direct = schedules.filter(([, s]) => s.timeout === undefined);
    const timed = schedules.filter(([, s]) => s.timeout !== undefined);
    const run: ScheduledTaskRun = {
      taskDefinitionArn: app.taskDefinition.arn,
      subnets: network.privateSubnetIds,
      securityGroups: [app.securityGroup.id, cluster.memberSecurityGroup.id],
    };
    if (direct.length > 0) buildDirectSchedules(ctx, cluster, app, run, direct);
    if (timed.length > 0) {
      const runner = buildTimedScheduleRunner(ctx, cluster, app);
      for (const [name, s] of timed) buildTimedSchedule(ctx, cluster, app, run, runner, name, s);
    }
  }
}

/**
 * The app's schedules without `timeout`: EventBridge Scheduler runs the ECS task itself. Role and
 * policy keep Pulumi's auto-names while they fit IAM's limits (they do for every app name the
 * schema allows today); a longer app name limit would give them explicit bounded names.
 */
function buildDirectSchedules(ctx: ProgramContext, cluster: Cluster, app: BuiltApp, run: ScheduledTaskRun, schedules: [string, ScheduleModel][]): void {
  const roleLogical = `app-${app.name}-scheduler-role`;
  const role = new aws.iam.Role(
    roleLogical,
    {
      ...nameWhereAutoNameTooLong(roleLogical, AWS_NAME_RULES.iamRole, () => ctx.names.schedulerRole(app.name)),
      description: `EventBridge Scheduler runs the scheduled tasks of app/${app.name} in ${ctx.names.key}`,
      assumeRolePolicy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'scheduler.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      }),
    },
    ctx.res(),
  );
  const familyArn = pulumi.interpolate`arn:aws:ecs:${ctx.region}:${ctx.accountId}:task-definition/${app.taskDefinition.family}:*`;
  const policyLogical = `app-${app.name}-scheduler-policy`;
  const policy = new aws.iam.RolePolicy(
    policyLogical,
    {
      ...nameWhereAutoNameTooLong(policyLogical, AWS_NAME_RULES.iamInlinePolicy, () => ctx.names.schedulerPolicy(app.name)),
      role: role.id,
      policy: policyDocument([
        { Sid: 'RunTheAppTask', Effect: 'Allow', Action: ['ecs:RunTask'], Resource: [familyArn], Condition: { ArnEquals: { 'ecs:cluster': cluster.cluster.arn } } },
        passTaskRoles(app, cluster),
      ]),
    },
    ctx.res(),
  );
  for (const [name, s] of schedules) {
    new aws.scheduler.Schedule(
      scheduleLogicalName(app.name, name),
      {
        ...scheduleTiming(ctx, app, name, s),
        target: {
          arn: cluster.cluster.arn,
          roleArn: role.arn,
          ecsParameters: {
            taskDefinitionArn: run.taskDefinitionArn,
            launchType: 'FARGATE',
            taskCount: 1,
            // The ECS task group names the schedule: `setopsd task list` finds its runs by it.
            group: `schedule:${name}`,
            networkConfiguration: { subnets: run.subnets, securityGroups: run.securityGroups, assignPublicIp: false },
          },
          input: JSON.stringify({ containerOverrides: [{ name: app.name, command: scheduleCommand(s) }] }),
          retryPolicy: { maximumRetryAttempts: 0 },
        },
      },
      ctx.res({ dependsOn: [policy] }),
    );
  }
}
