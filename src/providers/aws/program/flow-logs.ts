import * as aws from '@pulumi/aws';
import type * as pulumi from '@pulumi/pulumi';
import type { ProgramContext } from './context.js';
import { policyDocument } from './iam.js';

/**
 * VPC flow logs of a protected stage's VPC (all traffic) to the CloudWatch log group
 * `/setops/<org>/<project>/<stage>/vpc-flow-logs`, kept the stage's log retention; a role that
 * VPC Flow Logs assumes may write to that group only.
 */
export function buildFlowLogs(ctx: ProgramContext, vpcId: pulumi.Input<string>): void {
  const group = new aws.cloudwatch.LogGroup(
    'vpc-flow-logs',
    { name: `/setops/${ctx.names.org}/${ctx.names.project}/${ctx.names.stage}/vpc-flow-logs`, retentionInDays: ctx.logRetentionDays },
    ctx.res(),
  );
  const role = new aws.iam.Role(
    'vpc-flow-logs-role',
    {
      description: `VPC flow logs of ${ctx.names.key}`,
      assumeRolePolicy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'vpc-flow-logs.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      }),
    },
    ctx.res(),
  );
  new aws.iam.RolePolicy(
    'vpc-flow-logs-policy',
    {
      role: role.id,
      policy: policyDocument([
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
          Resource: [group.arn, group.arn.apply((arn) => `${arn}:*`)],
        },
      ]),
    },
    ctx.res(),
  );
  new aws.ec2.FlowLog(
    'vpc-flow-log',
    { vpcId, trafficType: 'ALL', logDestinationType: 'cloud-watch-logs', logDestination: group.arn, iamRoleArn: role.arn, maxAggregationInterval: 60 },
    ctx.res(),
  );
}
