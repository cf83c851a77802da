import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { AppModel } from '../../../model/stage-model.js';
import type { PublicTarget } from './ingress.js';
import { appLogGroup, appTaskRole, type Cluster } from './cluster.js';
import { containerHealthCheck, containerVariables, execForm } from './container.js';
import type { ProgramContext } from './context.js';
import { linkApp } from './links.js';
import type { Network } from './network.js';
import type { BuiltService } from './services/index.js';
import { fargateTaskSize } from './validate.js';

/** One app as built: what outputs and alarms need. */
export interface BuiltApp {
  name: string;
  model: AppModel;
  service: aws.ecs.Service;
  taskDefinition: aws.ecs.TaskDefinition;
  preDeployTaskDefinition?: aws.ecs.TaskDefinition;
  securityGroup: aws.ec2.SecurityGroup;
  /** The role its tasks run with (the principal of the app's own AWS calls). */
  taskRole: aws.iam.Role;
  logGroup: aws.cloudwatch.LogGroup;
  target?: PublicTarget;
}

/**
 * One app: log group, task role, security group (its port open to the stage's other apps and,
 * when public, to its load balancer), Cloud Map name `<app>.<stage>.<project>.internal`, the
 * Fargate task definition (task size: the smallest Fargate size that holds `resources`; the
 * container keeps the exact cpu/memory as limits), the pre-deploy task definition (family
 * `…-<app>-predeploy`, same image, env, secrets and mounts, `preDeploy.command`) and the ECS
 * service: desired count = scale, private subnets, rolling deployment with 100% minimum healthy
 * and the circuit breaker rolling a failed deployment back; the deployment waits for a steady
 * state so a failed rollout fails the apply.
 */
export function buildApp(
  ctx: ProgramContext,
  network: Network,
  cluster: Cluster,
  name: string,
  app: AppModel,
  services: Record<string, BuiltService>,
  target: PublicTarget | undefined,
): BuiltApp {
  const logGroup = appLogGroup(ctx, name);
  const taskRole = appTaskRole(ctx, name);
  const sg = new aws.ec2.SecurityGroup(
    `app-${name}-sg`,
    {
      vpcId: network.vpcId,
      description: `app/${name} in ${ctx.names.key}`,
      egress: [{ protocol: '-1', fromPort: 0, toPort: 0, cidrBlocks: ['0.0.0.0/0'], ipv6CidrBlocks: ['::/0'] }],
    },
    ctx.res(),
  );
  new aws.vpc.SecurityGroupIngressRule(
    `app-${name}-from-apps`,
    {
      securityGroupId: sg.id,
      referencedSecurityGroupId: cluster.memberSecurityGroup.id,
      ipProtocol: 'tcp',
      fromPort: app.port,
      toPort: app.port,
      description: `apps of ${ctx.names.key} → app/${name}`,
    },
    ctx.res(),
  );
  if (target) {
    new aws.vpc.SecurityGroupIngressRule(
      `app-${name}-from-lb`,
      {
        securityGroupId: sg.id,
        referencedSecurityGroupId: target.sourceSecurityGroup.id,
        ipProtocol: 'tcp',
        fromPort: app.port,
        toPort: app.port,
        description: `load balancer → app/${name}`,
      },
      ctx.res(),
    );
  }
  const links = linkApp(ctx, name, app, sg, taskRole, services);
  const { environment, secrets } = containerVariables(ctx, name, app, links);
  const size = fargateTaskSize(app.resources.cpu, app.resources.memory)!;
  const mountPoints = links.mounts.map((m) => ({ sourceVolume: m.volume, containerPath: m.containerPath, readOnly: m.readOnly }));
  const volumes = links.mounts.map((m) => ({
    name: m.volume,
    efsVolumeConfiguration: {
      fileSystemId: m.fileSystemId,
      transitEncryption: 'ENABLED',
      authorizationConfig: { accessPointId: m.accessPointId, iam: 'ENABLED' },
    },
  }));

  const container = (preDeploy: boolean): pulumi.Output<string> =>
    pulumi.jsonStringify([
      {
        name,
        image: app.image!,
        essential: true,
        cpu: app.resources.cpu,
        memory: app.resources.memory,
        ...(preDeploy
          ? { command: execForm(app.preDeploy!.command) }
          : {
              ...(app.command !== undefined ? { command: execForm(app.command) } : {}),
              portMappings: [{ containerPort: app.port, protocol: 'tcp', name: `${name}-${app.port}` }],
              ...(containerHealthCheck(app) ? { healthCheck: containerHealthCheck(app) } : {}),
            }),
        ...(app.entrypoint !== undefined ? { entryPoint: execForm(app.entrypoint) } : {}),
        environment,
        secrets,
        mountPoints,
        logConfiguration: {
          logDriver: 'awslogs',
          options: {
            'awslogs-group': logGroup.name,
            'awslogs-region': ctx.region,
            'awslogs-stream-prefix': preDeploy ? 'predeploy' : name,
          },
        },
      },
    ]);

  const taskArgs = (preDeploy: boolean): aws.ecs.TaskDefinitionArgs => ({
    family: ctx.names.family(name, preDeploy),
    cpu: String(size.cpu),
    memory: String(size.memory),
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: 'X86_64' },
    executionRoleArn: cluster.executionRole.arn,
    taskRoleArn: taskRole.arn,
    containerDefinitions: container(preDeploy),
    volumes,
  });
  const taskDefinition = new aws.ecs.TaskDefinition(`app-${name}-task`, taskArgs(false), ctx.res());
  const preDeployTaskDefinition = app.preDeploy
    ? new aws.ecs.TaskDefinition(`app-${name}-predeploy-task`, taskArgs(true), ctx.res())
    : undefined;

  const discovery = new aws.servicediscovery.Service(
    `app-${name}-discovery`,
    {
      name,
      dnsConfig: { namespaceId: cluster.namespace.id, dnsRecords: [{ type: 'A', ttl: 10 }], routingPolicy: 'MULTIVALUE' },
    },
    ctx.res(),
  );
  const hc = app.healthCheck;
  const service = new aws.ecs.Service(
    `app-${name}-service`,
    {
      name,
      cluster: cluster.cluster.arn,
      taskDefinition: ctx.pinnedTaskDefinitions[name] ?? taskDefinition.arn,
      desiredCount: ctx.heldApps.has(name) ? 0 : app.scale,
      launchType: 'FARGATE',
      platformVersion: 'LATEST',
      networkConfiguration: {
        subnets: network.privateSubnetIds,
        securityGroups: [sg.id, cluster.memberSecurityGroup.id],
        assignPublicIp: false,
      },
      deploymentCircuitBreaker: { enable: true, rollback: true },
      deploymentMinimumHealthyPercent: 100,
      deploymentMaximumPercent: 200,
      ...(target
        ? {
            loadBalancers: [{ targetGroupArn: target.targetGroup.arn, containerName: name, containerPort: app.port }],
            // New tasks get their start period plus the checks' budget before the load balancer's verdict counts.
            healthCheckGracePeriodSeconds: Math.min(hc.startPeriod + hc.interval * hc.retries, 2147483647),
          }
        : {}),
      serviceRegistries: { registryArn: discovery.arn },
      propagateTags: 'SERVICE',
      enableEcsManagedTags: true,
      waitForSteadyState: app.scale > 0 && !ctx.heldApps.has(name),
    },
    // A fixed service name cannot exist twice in a cluster: replace by deleting first.
    ctx.res({ dependsOn: [...(target?.dependsOn ?? []), ...cluster.executionPolicies, ...links.dependsOn], deleteBeforeReplace: true }),
  );
  return {
    name,
    model: app,
    service,
    taskDefinition,
    ...(preDeployTaskDefinition ? { preDeployTaskDefinition } : {}),
    securityGroup: sg,
    taskRole,
    logGroup,
    ...(target ? { target } : {}),
  };
}
