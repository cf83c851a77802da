import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { ScheduleModel } from '../../../model/stage-model.js';
import type { BuiltApp } from './app.js';
import type { Cluster } from './cluster.js';
import type { ProgramContext } from './context.js';
import { policyDocument } from './iam.js';
import { passTaskRoles, scheduleCommand, scheduleLogicalName, scheduleTiming, type ScheduledTaskRun } from './scheduled-task.js';

/**
 * Schedules with `timeout` on AWS. ECS tasks have no time limit, so EventBridge Scheduler starts
 * a Step Functions state machine (STANDARD) per such schedule instead of the task: one Task state
 * `arn:aws:states:::ecs:runTask.sync` ("Run a Job": the state waits until the ECS task stopped)
 * with `TimeoutSeconds` = the schedule's timeout. When the state times out Step Functions stops
 * the ECS task (`ecs:StopTask`) and the execution fails with `States.Timeout`. The task is the same
 * as a direct schedule's (task definition, Fargate, network, command override, group
 * `schedule:NAME`), so `setopsd task list` finds its runs the same way.
 */

/** The role the app's state machines run with, and its policy (state machines depend on it). */
export interface TimedScheduleRunner {
  role: aws.iam.Role;
  policy: aws.iam.RolePolicy;
}

/** A trust policy for `service`, only on behalf of the stage's account (confused-deputy guard). */
function serviceTrust(ctx: ProgramContext, service: string): pulumi.Output<string> {
  return pulumi.jsonStringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': ctx.accountId } } }],
  });
}

/**
 * The execution role of an app's timed schedules' state machines. What `ecs:runTask.sync` needs,
 * as https://docs.aws.amazon.com/step-functions/latest/dg/ecs-iam.html lists it: RunTask of the
 * task definition; StopTask (to stop the task when the state times out) and DescribeTasks (to
 * see it stop); PutTargets, PutRule and DescribeRule of the managed EventBridge rule
 * `StepFunctionsGetEventsForECSTaskRule` through which Step Functions learns that the task
 * stopped; and PassRole of the task's roles. Narrower than the documented example: RunTask only
 * in the stage's cluster, StopTask and DescribeTasks only on its tasks (the documentation's `*`
 * is not needed: both accept task ARNs and the `ecs:cluster` condition), PassRole only to ECS.
 */
export function buildTimedScheduleRunner(ctx: ProgramContext, cluster: Cluster, app: BuiltApp): TimedScheduleRunner {
  const role = new aws.iam.Role(
    `app-${app.name}-schedule-runner-role`,
    {
      description: `Step Functions runs the scheduled tasks with a timeout of app/${app.name} in ${ctx.names.key}`,
      assumeRolePolicy: serviceTrust(ctx, 'states.amazonaws.com'),
    },
    ctx.res(),
  );
  const familyArn = pulumi.interpolate`arn:aws:ecs:${ctx.region}:${ctx.accountId}:task-definition/${app.taskDefinition.family}:*`;
  const clusterTasks = pulumi.interpolate`arn:aws:ecs:${ctx.region}:${ctx.accountId}:task/${cluster.cluster.name}/*`;
  const ecsEventsRule = pulumi.interpolate`arn:aws:events:${ctx.region}:${ctx.accountId}:rule/StepFunctionsGetEventsForECSTaskRule`;
  const inCluster = { ArnEquals: { 'ecs:cluster': cluster.cluster.arn } };
  const policy = new aws.iam.RolePolicy(
    `app-${app.name}-schedule-runner-policy`,
    {
      role: role.id,
      policy: policyDocument([
        { Sid: 'RunTheAppTask', Effect: 'Allow', Action: ['ecs:RunTask'], Resource: [familyArn], Condition: inCluster },
        { Sid: 'StopAndWatchItsTasks', Effect: 'Allow', Action: ['ecs:StopTask', 'ecs:DescribeTasks'], Resource: [clusterTasks], Condition: inCluster },
        { Sid: 'LearnWhenTheTaskStopped', Effect: 'Allow', Action: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'], Resource: [ecsEventsRule] },
        passTaskRoles(app, cluster),
      ]),
    },
    ctx.res(),
  );
  return { role, policy };
}

/**
 * One schedule with `timeout`: its state machine, the role EventBridge Scheduler starts it with
 * (only `states:StartExecution` of that state machine) and the schedule. The schedule keeps the
 * logical name a direct one has, so adding or removing `timeout` changes its target in place.
 */
export function buildTimedSchedule(ctx: ProgramContext, cluster: Cluster, app: BuiltApp, run: ScheduledTaskRun, runner: TimedScheduleRunner, name: string, s: ScheduleModel): void {
  const timeout = s.timeout!;
  const stateMachine = new aws.sfn.StateMachine(
    `app-${app.name}-schedule-${name}-state-machine`,
    {
      name: ctx.names.scheduleStateMachine(app.name, name),
      type: 'STANDARD',
      roleArn: runner.role.arn,
      definition: pulumi.jsonStringify({
        Comment: `schedule ${name} of app/${app.name} in ${ctx.names.key}: the task is stopped after ${timeout} s`,
        StartAt: 'RunTask',
        States: {
          RunTask: {
            Type: 'Task',
            Resource: 'arn:aws:states:::ecs:runTask.sync',
            TimeoutSeconds: timeout,
            Parameters: {
              Cluster: cluster.cluster.arn,
              TaskDefinition: run.taskDefinitionArn,
              LaunchType: 'FARGATE',
              // As for a direct schedule: `setopsd task list` finds the runs by their group.
              Group: `schedule:${name}`,
              NetworkConfiguration: { AwsvpcConfiguration: { Subnets: run.subnets, SecurityGroups: run.securityGroups, AssignPublicIp: 'DISABLED' } },
              Overrides: { ContainerOverrides: [{ Name: app.name, Command: scheduleCommand(s) }] },
            },
            End: true,
          },
        },
      }),
    },
    ctx.res({ dependsOn: [runner.policy] }),
  );
  const role = new aws.iam.Role(
    `app-${app.name}-schedule-${name}-scheduler-role`,
    {
      name: ctx.names.scheduleStarterRole(app.name, name),
      description: `EventBridge Scheduler starts schedule ${name} of app/${app.name} in ${ctx.names.key}`,
      assumeRolePolicy: serviceTrust(ctx, 'scheduler.amazonaws.com'),
    },
    ctx.res(),
  );
  const policy = new aws.iam.RolePolicy(
    `app-${app.name}-schedule-${name}-scheduler-policy`,
    { role: role.id, policy: policyDocument([{ Sid: 'StartTheStateMachine', Effect: 'Allow', Action: ['states:StartExecution'], Resource: [stateMachine.arn] }]) },
    ctx.res(),
  );
  new aws.scheduler.Schedule(
    scheduleLogicalName(app.name, name),
    {
      ...scheduleTiming(ctx, app, name, s),
      target: { arn: stateMachine.arn, roleArn: role.arn, retryPolicy: { maximumRetryAttempts: 0 } },
    },
    ctx.res({ dependsOn: [policy] }),
  );
}
