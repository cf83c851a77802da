import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { BuiltApp } from './app.js';
import type { ProgramContext } from './context.js';
import { policyDocument } from './iam.js';
import type { BuiltService } from './services/index.js';

/**
 * The access policy of each elasticsearch service's domain: HTTP calls from the task roles of
 * the apps linked to it, nothing else (no `AWS: *`). Apps sign their requests (SigV4) with their
 * task role; the network still limits who can reach the domain (security groups). A domain no
 * app links gets no access policy, which denies every request.
 */
export function buildSearchAccess(ctx: ProgramContext, services: Record<string, BuiltService>, apps: readonly BuiltApp[]): void {
  for (const [name, svc] of Object.entries(services)) {
    if (svc.connection.type !== 'elasticsearch') continue;
    const { domainName, domainArn } = svc.connection;
    const roles = apps.filter((a) => name in a.model.links).map((a) => a.taskRole.arn);
    if (roles.length === 0) continue;
    new aws.opensearch.DomainPolicy(
      `svc-${name}-opensearch-policy`,
      {
        domainName,
        accessPolicies: policyDocument([
          { Sid: 'LinkedAppsOnly', Effect: 'Allow', Principal: { AWS: roles }, Action: ['es:ESHttp*'], Resource: [pulumi.interpolate`${domainArn}/*`] },
        ]),
      },
      ctx.res(),
    );
  }
}
