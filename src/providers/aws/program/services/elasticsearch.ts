import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { ServiceModel } from '../../../../model/stage-model.js';
import type { ProgramContext } from '../context.js';
import type { Network } from '../network.js';
import { requireOpenSearchServiceRole } from './opensearch-role.js';
import { numberOption, planOf, serviceSecurityGroup, statefulOptions } from './common.js';
import type { BuiltService } from './types.js';
import { elasticsearchEngineVersion } from './versions.js';

/**
 * elasticsearch → an OpenSearch Service domain inside the VPC (private subnets; `.ha` plan →
 * two nodes across both zones), gp3 storage of `options.storage` GB (default 10), encrypted at
 * rest and node to node (except on legacy T2 nodes, with a warning), HTTPS only (TLS 1.2+). Access:
 * the domain policy (search-access.ts) allows HTTP calls from the task roles of linked apps only,
 * which sign their requests (SigV4); only linked apps' security groups may reach it. The account
 * needs the OpenSearch service-linked role: the program requires it (opensearch-role.ts).
 */
export function buildElasticsearch(ctx: ProgramContext, network: Network, name: string, model: ServiceModel): BuiltService {
  const { instanceClass, ha } = planOf(model, 't3.small.search');
  const storage = numberOption(model, ['storage'], 10);
  const encrypts = !instanceClass.startsWith('t2.');
  if (!encrypts) {
    pulumi.log.warn(`service/${name} in ${ctx.names.key}: ${instanceClass} cannot encrypt data at rest; choose a current instance type (e.g. t3.medium.search)`);
  }
  const sg = serviceSecurityGroup(ctx, network, name);
  // A VPC domain needs the account's service-linked role: a missing one fails the preview.
  requireOpenSearchServiceRole(ctx);
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
  return {
    name,
    model,
    securityGroup: sg,
    connection: { type: 'elasticsearch', endpoint: domain.endpoint, port: 443, domainName: domain.domainName, domainArn: domain.arn },
    outputs: { type: 'elasticsearch', endpoint: domain.endpoint },
  };
}
