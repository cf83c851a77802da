import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { Ingress } from './ingress.js';
import type { ProgramContext } from './context.js';
import { clamp } from './domains.js';
import type { Network } from './network.js';

/**
 * Public tcp apps: one network load balancer in the public subnets (its security group opens
 * the apps' ports), a TCP target group with a TCP health check and a listener per app.
 */
export function buildNlb(ctx: ProgramContext, network: Network, tcpApps: string[], ingress: Ingress): void {
  const ports = [...new Set(tcpApps.map((a) => ctx.model.apps[a]!.port))].sort((x, y) => x - y);
  const sg = new aws.ec2.SecurityGroup(
    'nlb-sg',
    {
      vpcId: network.vpcId,
      description: `Network load balancer of ${ctx.names.key}: public tcp app ports`,
      ingress: ports.map((port) => ({ protocol: 'tcp', fromPort: port, toPort: port, cidrBlocks: ['0.0.0.0/0'], ipv6CidrBlocks: ['::/0'] })),
      egress: [{ protocol: 'tcp', fromPort: 0, toPort: 65535, cidrBlocks: [network.cidrBlock] }],
    },
    ctx.res(),
  );
  const nlb = new aws.lb.LoadBalancer(
    'nlb',
    {
      name: ctx.names.nlb,
      loadBalancerType: 'network',
      internal: false,
      securityGroups: [sg.id],
      subnets: network.publicSubnetIds,
      // Production posture; access logs exist for TLS listeners only, and these are TCP.
      enableDeletionProtection: ctx.protectedStage,
    },
    ctx.res(),
  );
  ingress.nlb = nlb;
  for (const a of tcpApps) {
    const app = ctx.model.apps[a]!;
    const interval = clamp(app.healthCheck.interval, 5, 300);
    const tg = new aws.lb.TargetGroup(
      `app-${a}-tg`,
      {
        name: ctx.names.targetGroup(a, ['TCP', String(app.port), ctx.model.organization.aws?.vpcId ?? 'vpc']),
        port: app.port,
        protocol: 'TCP',
        targetType: 'ip',
        vpcId: network.vpcId,
        deregistrationDelay: 30,
        healthCheck: {
          enabled: true,
          protocol: 'TCP',
          interval,
          timeout: clamp(Math.min(app.healthCheck.timeout, interval - 1), 2, 120),
          healthyThreshold: 2,
          unhealthyThreshold: clamp(app.healthCheck.retries, 2, 10),
        },
      },
      ctx.res(),
    );
    const listener = new aws.lb.Listener(
      `app-${a}-tcp`,
      { loadBalancerArn: nlb.arn, port: app.port, protocol: 'TCP', defaultActions: [{ type: 'forward', targetGroupArn: tg.arn }] },
      ctx.res(),
    );
    ingress.targets[a] = {
      targetGroup: tg,
      sourceSecurityGroup: sg,
      dependsOn: [listener],
      url: pulumi.interpolate`tcp://${nlb.dnsName}:${app.port}`,
    };
  }
}
