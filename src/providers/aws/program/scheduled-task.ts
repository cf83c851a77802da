import type * as aws from '@pulumi/aws';
import type * as pulumi from '@pulumi/pulumi';
import type { ScheduleModel } from '../../../model/stage-model.js';
import type { BuiltApp } from './app.js';
import type { Cluster } from './cluster.js';
import type { Statement } from './iam.js';
import { AWS_NAME_RULES, nameWhereAutoNameTooLong } from './aws-names.js';
import type { ProgramContext } from './context.js';
import { eventBridgeCron } from './eventbridge-cron.js';

/** What a schedule's runs share, whether EventBridge Scheduler starts the task or a state machine does. */

/** What every run of an app's schedules starts: its task definition in its network. */
export interface ScheduledTaskRun {
  taskDefinitionArn: pulumi.Output<string>;
  subnets: pulumi.Input<string>[];
  securityGroups: pulumi.Input<string>[];
}

/** Whoever starts an app's task (EventBridge Scheduler or a state machine) passes its task and execution roles, to ECS only. */
export function passTaskRoles(app: BuiltApp, cluster: Cluster): Statement {
  return {
    Sid: 'PassTheTaskRoles',
    Effect: 'Allow',
    Action: ['iam:PassRole'],
    Resource: [app.taskDefinition.taskRoleArn.apply((a) => a ?? ''), cluster.executionRole.arn],
    Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
  };
}

/** The command of a schedule as ECS's container override takes it (a string runs with `/bin/sh -c`). */
export function scheduleCommand(s: ScheduleModel): string[] {
  return typeof s.command === 'string' ? ['/bin/sh', '-c', s.command] : s.command;
}

/**
 * The logical name of a schedule's `aws.scheduler.Schedule`, the same with or without `timeout`:
 * adding or removing one changes its target in place.
 */
export function scheduleLogicalName(app: string, schedule: string): string {
  return `app-${app}-schedule-${schedule}`;
}

/**
 * The fields of a schedule's `aws.scheduler.Schedule` that do not depend on its target. Its name
 * is Pulumi's auto-name unless that would exceed EventBridge Scheduler's 64 characters (the
 * longest app and schedule names give 78): then an explicit bounded one (`names.ts`).
 */
export function scheduleTiming(ctx: ProgramContext, app: BuiltApp, name: string, s: ScheduleModel): Omit<aws.scheduler.ScheduleArgs, 'target'> {
  return {
    ...nameWhereAutoNameTooLong(scheduleLogicalName(app.name, name), AWS_NAME_RULES.schedule, () => ctx.names.schedule(app.name, name)),
    description: `schedule ${name} of app/${app.name} in ${ctx.names.key}: ${s.cron}`,
    scheduleExpression: eventBridgeCron(s.cron) ?? 'cron(0 0 1 1 ? 2099)',
    scheduleExpressionTimezone: s.timezone ?? 'UTC',
    flexibleTimeWindow: { mode: 'OFF' },
  };
}
