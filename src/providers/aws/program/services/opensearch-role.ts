import * as aws from '@pulumi/aws';
import type * as pulumi from '@pulumi/pulumi';
import type { ProgramContext } from '../context.js';

/** The account-wide role OpenSearch Service needs to place a domain in a VPC. */
export const OPENSEARCH_SERVICE_ROLE = 'AWSServiceRoleForAmazonOpenSearchService';

/**
 * Requires the OpenSearch service-linked role: it is account-wide (a stage's stack must not own
 * it, and creating it fails where it exists), so the program looks it up and a missing one fails
 * the preview, before anything is created. Create it once per account with
 * `aws iam create-service-linked-role --aws-service-name opensearchservice.amazonaws.com`.
 */
export function requireOpenSearchServiceRole(ctx: ProgramContext): pulumi.Output<string> {
  return aws.iam.getRoleOutput({ name: OPENSEARCH_SERVICE_ROLE }, ctx.invoke).arn;
}
