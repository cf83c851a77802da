import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { ProgramContext } from './context.js';
import { buildFlowLogs } from './flow-logs.js';

/** The stage's network: two public and two private subnets in two availability zones. */
export interface Network {
  vpcId: pulumi.Output<string>;
  cidrBlock: pulumi.Output<string>;
  /** Exactly two, in different availability zones: load balancers and NAT gateways. */
  publicSubnetIds: pulumi.Output<string>[];
  /** Exactly two, in different availability zones: tasks and every service. */
  privateSubnetIds: pulumi.Output<string>[];
  /** Whether the program created the VPC (false: the Organization's existing `aws.vpcId`). */
  created: boolean;
}

/** Tag that marks the subnets setopsd uses in an existing VPC. */
export const TIER_TAG = 'setops:tier';

const VPC_CIDR = '10.0.0.0/16';
const PUBLIC_CIDRS = ['10.0.0.0/20', '10.0.16.0/20'];
const PRIVATE_CIDRS = ['10.0.128.0/20', '10.0.144.0/20'];
const ZONES = ['a', 'b'];

/**
 * The stage's VPC: a new one (public subnets routed to an internet gateway, private subnets
 * through NAT, one NAT gateway per zone on protected stages and one shared NAT elsewhere, and
 * a free S3 gateway endpoint, and on protected stages VPC flow logs to CloudWatch) or, with `organization.aws.vpcId`, the existing VPC whose subnets
 * are tagged `setops:tier=public` / `setops:tier=private` (the first two of each tier by id are
 * used; they must be in two different availability zones, and the private ones need a route to
 * the internet, e.g. through NAT, for tasks to pull images and reach AWS APIs).
 */
export function buildNetwork(ctx: ProgramContext): Network {
  const existing = ctx.model.organization.aws?.vpcId;
  return existing ? existingNetwork(ctx, existing) : newNetwork(ctx);
}

function existingNetwork(ctx: ProgramContext, vpcId: string): Network {
  const vpc = aws.ec2.getVpcOutput({ id: vpcId }, ctx.invoke);
  const tier = (name: 'public' | 'private'): pulumi.Output<string>[] => {
    const ids = aws.ec2
      .getSubnetsOutput(
        { filters: [{ name: 'vpc-id', values: [vpcId] }, { name: `tag:${TIER_TAG}`, values: [name] }] },
        ctx.invoke,
      )
      .ids.apply((found) => {
        if (found.length < 2) {
          throw new Error(
            `stage ${ctx.names.key}: VPC ${vpcId} has ${found.length} subnet(s) tagged ${TIER_TAG}=${name}; ` +
              `tag two ${name} subnets in different availability zones, or remove aws.vpcId to let setopsd create a VPC`,
          );
        }
        return [...found].sort();
      });
    return [0, 1].map((i) => ids.apply((list) => list[i]!));
  };
  return {
    vpcId: vpc.id,
    cidrBlock: vpc.cidrBlock,
    publicSubnetIds: tier('public'),
    privateSubnetIds: tier('private'),
    created: false,
  };
}

function newNetwork(ctx: ProgramContext): Network {
  const name = ctx.names.prefix;
  const azs = aws.getAvailabilityZonesOutput(
    { state: 'available', filters: [{ name: 'opt-in-status', values: ['opt-in-not-required'] }] },
    ctx.invoke,
  ).names;
  const vpc = new aws.ec2.Vpc(
    'vpc',
    { cidrBlock: VPC_CIDR, enableDnsHostnames: true, enableDnsSupport: true, tags: { Name: name } },
    ctx.res(),
  );
  const igw = new aws.ec2.InternetGateway('vpc-igw', { vpcId: vpc.id, tags: { Name: name } }, ctx.res());

  const publicRt = new aws.ec2.RouteTable('vpc-public-rt', { vpcId: vpc.id, tags: { Name: `${name}-public` } }, ctx.res());
  new aws.ec2.Route('vpc-public-default', { routeTableId: publicRt.id, destinationCidrBlock: '0.0.0.0/0', gatewayId: igw.id }, ctx.res());

  const publicSubnets = ZONES.map((zone, i) => {
    const subnet = new aws.ec2.Subnet(
      `vpc-public-${zone}`,
      {
        vpcId: vpc.id,
        cidrBlock: PUBLIC_CIDRS[i]!,
        availabilityZone: azs.apply((names) => names[i]!),
        mapPublicIpOnLaunch: false,
        tags: { Name: `${name}-public-${zone}`, [TIER_TAG]: 'public' },
      },
      ctx.res(),
    );
    new aws.ec2.RouteTableAssociation(`vpc-public-${zone}-rt`, { subnetId: subnet.id, routeTableId: publicRt.id }, ctx.res());
    return subnet;
  });

  // One NAT per zone where availability matters, one shared NAT (cheaper) elsewhere.
  const natZones = ctx.protectedStage ? ZONES : ZONES.slice(0, 1);
  const nats = natZones.map((zone, i) => {
    const eip = new aws.ec2.Eip(`vpc-nat-${zone}-eip`, { domain: 'vpc', tags: { Name: `${name}-nat-${zone}` } }, ctx.res());
    return new aws.ec2.NatGateway(
      `vpc-nat-${zone}`,
      { allocationId: eip.id, subnetId: publicSubnets[i]!.id, tags: { Name: `${name}-nat-${zone}` } },
      ctx.res({ dependsOn: [igw] }),
    );
  });

  const privateRts: aws.ec2.RouteTable[] = [];
  const privateSubnets = ZONES.map((zone, i) => {
    const subnet = new aws.ec2.Subnet(
      `vpc-private-${zone}`,
      {
        vpcId: vpc.id,
        cidrBlock: PRIVATE_CIDRS[i]!,
        availabilityZone: azs.apply((names) => names[i]!),
        mapPublicIpOnLaunch: false,
        tags: { Name: `${name}-private-${zone}`, [TIER_TAG]: 'private' },
      },
      ctx.res(),
    );
    const rt = new aws.ec2.RouteTable(`vpc-private-${zone}-rt`, { vpcId: vpc.id, tags: { Name: `${name}-private-${zone}` } }, ctx.res());
    new aws.ec2.Route(
      `vpc-private-${zone}-default`,
      { routeTableId: rt.id, destinationCidrBlock: '0.0.0.0/0', natGatewayId: (nats[i] ?? nats[0]!).id },
      ctx.res(),
    );
    new aws.ec2.RouteTableAssociation(`vpc-private-${zone}-rta`, { subnetId: subnet.id, routeTableId: rt.id }, ctx.res());
    privateRts.push(rt);
    return subnet;
  });

  new aws.ec2.VpcEndpoint(
    'vpc-s3-endpoint',
    {
      vpcId: vpc.id,
      serviceName: `com.amazonaws.${ctx.region}.s3`,
      vpcEndpointType: 'Gateway',
      routeTableIds: privateRts.map((rt) => rt.id),
    },
    ctx.res(),
  );
  // Production posture: every flow of a protected stage's VPC is logged.
  if (ctx.protectedStage) buildFlowLogs(ctx, vpc.id);

  return {
    vpcId: vpc.id,
    cidrBlock: vpc.cidrBlock,
    publicSubnetIds: publicSubnets.map((s) => s.id),
    privateSubnetIds: privateSubnets.map((s) => s.id),
    created: true,
  };
}
