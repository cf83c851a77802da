import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { ProgramContext } from './context.js';
import { ecsTasksTrustPolicy, policyDocument } from './iam.js';
import type { Network } from './network.js';

/** The stage's ECS cluster and what every app shares. */
export interface Cluster {
  cluster: aws.ecs.Cluster;
  /** Pulls images, writes logs and reads the secrets injected into containers. */
  executionRole: aws.iam.Role;
  /** Attached to every task besides its own group: apps of the stage reach each other through it. */
  memberSecurityGroup: aws.ec2.SecurityGroup;
  /** Private DNS namespace `<stage>.<project>.internal`: app `web` answers at `web.<stage>.<project>.internal`. */
  namespace: aws.servicediscovery.PrivateDnsNamespace;
  /** The execution role's policies: tasks cannot start (pull, log, read secrets) before they exist. */
  executionPolicies: pulumi.Resource[];
}

/**
 * ECS cluster (Container Insights on), the shared task execution role, the stage member
 * security group and the private DNS namespace for service discovery.
 */
export function buildCluster(ctx: ProgramContext, network: Network): Cluster {
  const cluster = new aws.ecs.Cluster(
    'cluster',
    { name: ctx.names.cluster, settings: [{ name: 'containerInsights', value: 'enabled' }] },
    ctx.res(),
  );
  const executionRole = new aws.iam.Role(
    'task-execution-role',
    { assumeRolePolicy: ecsTasksTrustPolicy(), description: `ECS task execution role of ${ctx.names.key}` },
    ctx.res(),
  );
  const managed = new aws.iam.RolePolicyAttachment(
    'task-execution-role-managed',
    { role: executionRole.name, policyArn: 'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy' },
    ctx.res(),
  );
  const memberSecurityGroup = new aws.ec2.SecurityGroup(
    'apps-member-sg',
    { vpcId: network.vpcId, description: `Member of the apps of ${ctx.names.key}` },
    ctx.res(),
  );
  const namespace = new aws.servicediscovery.PrivateDnsNamespace(
    'apps-namespace',
    { name: ctx.names.privateZone, vpc: network.vpcId, description: `Apps of ${ctx.names.key}` },
    ctx.res(),
  );
  return { cluster, executionRole, memberSecurityGroup, namespace, executionPolicies: [managed] };
}

/**
 * Lets the execution role read the stage's `{secret}` parameters
 * (`<prefix>/<org>/<project>/<stage>/*` only) and the generated service credentials.
 */
export function grantSecretReads(ctx: ProgramContext, cluster: Cluster, generatedSecretArns: pulumi.Output<string>[]): void {
  const parameterArn = pulumi.interpolate`arn:aws:ssm:${ctx.region}:${ctx.accountId}:parameter${ctx.names.secretParameter('*')}`;
  const policy = new aws.iam.RolePolicy(
    'task-execution-role-secrets',
    {
      role: cluster.executionRole.name,
      policy: policyDocument([
        { Sid: 'StageParameters', Effect: 'Allow', Action: ['ssm:GetParameters'], Resource: [parameterArn] },
        ...(generatedSecretArns.length > 0
          ? [{ Sid: 'GeneratedCredentials', Effect: 'Allow' as const, Action: ['secretsmanager:GetSecretValue'], Resource: generatedSecretArns }]
          : []),
      ]),
    },
    ctx.res(),
  );
  cluster.executionPolicies.push(policy);
}

/** The log group of one app, with the stage's retention. */
export function appLogGroup(ctx: ProgramContext, app: string): aws.cloudwatch.LogGroup {
  return new aws.cloudwatch.LogGroup(
    `app-${app}-logs`,
    { name: ctx.names.logGroup(app), retentionInDays: ctx.logRetentionDays },
    ctx.res(),
  );
}

/** The task role of one app (its containers' AWS identity: s3 and EFS access of its links). */
export function appTaskRole(ctx: ProgramContext, app: string): aws.iam.Role {
  return new aws.iam.Role(
    `app-${app}-task-role`,
    { assumeRolePolicy: ecsTasksTrustPolicy(), description: `Task role of app/${app} in ${ctx.names.key}` },
    ctx.res(),
  );
}
