import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { BuiltApp } from './app.js';
import type { Cluster } from './cluster.js';
import type { ProgramContext } from './context.js';
import { eventBridgeCron } from './eventbridge-cron.js';
import { policyDocument } from './iam.js';
import type { Network } from './network.js';

/**
 * Scheduled tasks on AWS: per app with `schedules`, one IAM role EventBridge Scheduler assumes —
 * allowed only `ecs:RunTask` of that app's task definition family in the stage's cluster and
 * `iam:PassRole` of its task and execution roles to ECS — and one `aws.scheduler.Schedule` per
 * schedule that starts the app's task definition (Fargate, private subnets, the app's security
 * groups) with the schedule's command as a container override. Time zone from the schedule
 * (default UTC). Each run's ECS task group is `schedule:NAME`. Expressions EventBridge cannot
 * express are refused by `validate.ts` first.
 */
export function buildSchedules(ctx: ProgramContext, network: Network, cluster: Cluster, apps: BuiltApp[]): void {
  for (const app of apps) {
    const schedules = Object.entries(app.model.schedules ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
    if (schedules.length === 0) continue;
    const role = new aws.iam.Role(
      `app-${app.name}-scheduler-role`,
      {
        description: `EventBridge Scheduler runs the scheduled tasks of app/${app.name} in ${ctx.names.key}`,
        assumeRolePolicy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'scheduler.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        }),
      },
      ctx.res(),
    );
    const familyArn = pulumi.interpolate`arn:aws:ecs:${ctx.region}:${ctx.accountId}:task-definition/${app.taskDefinition.family}:*`;
    const policy = new aws.iam.RolePolicy(
      `app-${app.name}-scheduler-policy`,
      {
        role: role.id,
        policy: policyDocument([
          { Sid: 'RunTheAppTask', Effect: 'Allow', Action: ['ecs:RunTask'], Resource: [familyArn], Condition: { ArnEquals: { 'ecs:cluster': cluster.cluster.arn } } },
          {
            Sid: 'PassTheTaskRoles',
            Effect: 'Allow',
            Action: ['iam:PassRole'],
            Resource: [app.taskDefinition.taskRoleArn.apply((a) => a ?? ''), cluster.executionRole.arn],
            Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
          },
        ]),
      },
      ctx.res(),
    );
    for (const [name, s] of schedules) {
      const command = typeof s.command === 'string' ? ['/bin/sh', '-c', s.command] : s.command;
      new aws.scheduler.Schedule(
        `app-${app.name}-schedule-${name}`,
        {
          description: `schedule ${name} of app/${app.name} in ${ctx.names.key}: ${s.cron}`,
          scheduleExpression: eventBridgeCron(s.cron) ?? 'cron(0 0 1 1 ? 2099)',
          scheduleExpressionTimezone: s.timezone ?? 'UTC',
          flexibleTimeWindow: { mode: 'OFF' },
          target: {
            arn: cluster.cluster.arn,
            roleArn: role.arn,
            ecsParameters: {
              taskDefinitionArn: app.taskDefinition.arn,
              launchType: 'FARGATE',
              taskCount: 1,
              // The ECS task group names the schedule: `setopsd task list` finds its runs by it.
              group: `schedule:${name}`,
              networkConfiguration: { subnets: network.privateSubnetIds, securityGroups: [app.securityGroup.id, cluster.memberSecurityGroup.id], assignPublicIp: false },
            },
            input: JSON.stringify({ containerOverrides: [{ name: app.name, command }] }),
            retryPolicy: { maximumRetryAttempts: 0 },
          },
        },
        ctx.res({ dependsOn: [policy] }),
      );
    }
  }
}
