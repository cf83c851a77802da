import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { ServiceModel } from '../../../../model/stage-model.js';
import type { ProgramContext } from '../context.js';
import type { Network } from '../network.js';
import { policyDocument } from '../iam.js';
import { numberOption, planOf, serviceSecurityGroup, statefulOptions } from './common.js';
import type { BuiltService } from './types.js';
import { elasticsearchEngineVersion } from './versions.js';

/**
 * elasticsearch → an OpenSearch Service domain inside the VPC (private subnets; `.ha` plan →
 * two nodes across both zones), gp3 storage of `options.storage` GB (default 10), encrypted at
 * rest and node to node (except on legacy T2 nodes, with a warning), HTTPS only (TLS 1.2+). Access: the domain policy allows HTTP calls
 * from any principal, and the network is the boundary — only linked apps' security groups may
 * reach it (the usual setup for VPC domains, so apps use plain HTTPS without request signing).
 * The account needs the OpenSearch service-linked role (created on first use of VPC domains).
 */
export function buildElasticsearch(ctx: ProgramContext, network: Network, name: string, model: ServiceModel): BuiltService {
  const { instanceClass, ha } = planOf(model, 't3.small.search');
  const storage = numberOption(model, ['storage'], 10);
  const encrypts = !instanceClass.startsWith('t2.');
  if (!encrypts) {
    pulumi.log.warn(`service/${name} in ${ctx.names.key}: ${instanceClass} cannot encrypt data at rest; choose a current instance type (e.g. t3.medium.search)`);
  }
  const sg = serviceSecurityGroup(ctx, network, name);
  const domain = new aws.opensearch.Domain(
    `svc-${name}-opensearch`,
    {
      domainName: ctx.names.searchDomain(name),
      engineVersion: elasticsearchEngineVersion(model.version),
      clusterConfig: {
        instanceType: instanceClass,
        instanceCount: ha ? 2 : 1,
        zoneAwarenessEnabled: ha,
        ...(ha ? { zoneAwarenessConfig: { availabilityZoneCount: 2 } } : {}),
      },
      ebsOptions: { ebsEnabled: true, volumeSize: storage, volumeType: 'gp3' },
      vpcOptions: { subnetIds: ha ? network.privateSubnetIds : [network.privateSubnetIds[0]!], securityGroupIds: [sg.id] },
      // T2 nodes cannot encrypt; every current instance family can.
      encryptAtRest: { enabled: encrypts },
      nodeToNodeEncryption: { enabled: encrypts },
      domainEndpointOptions: { enforceHttps: true, tlsSecurityPolicy: 'Policy-Min-TLS-1-2-2019-07' },
    },
    statefulOptions(ctx, model),
  );
  new aws.opensearch.DomainPolicy(
    `svc-${name}-opensearch-policy`,
    {
      domainName: domain.domainName,
      accessPolicies: policyDocument([
        { Effect: 'Allow', Principal: { AWS: '*' }, Action: ['es:ESHttp*'], Resource: [domain.arn.apply((arn) => `${arn}/*`)] },
      ]),
    },
    ctx.res(),
  );
  return {
    name,
    model,
    securityGroup: sg,
    connection: { type: 'elasticsearch', endpoint: domain.endpoint, port: 443 },
    outputs: { type: 'elasticsearch', endpoint: domain.endpoint },
  };
}
