import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { ProgramContext } from './context.js';
import { policyDocument } from './iam.js';

/** Days the load balancer's access logs are kept. */
export const ACCESS_LOG_DAYS = 90;

/**
 * The bucket a protected stage's application load balancer writes its access logs to: public
 * access blocked, owner-enforced ownership, SSE-S3 encryption (the only one ELB log delivery
 * supports), TLS-only, objects expire after `ACCESS_LOG_DAYS`. Elastic Load Balancing's account
 * for the region may write `AWSLogs/<account>/…` only. Logs are not service data: the bucket is
 * emptied when the stage is destroyed. Returns the bucket name, ready once its policy exists.
 */
export function accessLogBucket(ctx: ProgramContext): { bucket: pulumi.Output<string>; ready: pulumi.Resource[] } {
  const bucket = new aws.s3.Bucket('alb-logs', { forceDestroy: true }, ctx.res());
  new aws.s3.BucketOwnershipControls('alb-logs-ownership', { bucket: bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } }, ctx.res());
  const publicAccess = new aws.s3.BucketPublicAccessBlock(
    'alb-logs-public-access',
    { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
    ctx.res(),
  );
  new aws.s3.BucketServerSideEncryptionConfiguration(
    'alb-logs-encryption',
    { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }] },
    ctx.res(),
  );
  new aws.s3.BucketLifecycleConfiguration(
    'alb-logs-lifecycle',
    { bucket: bucket.id, rules: [{ id: 'expire-access-logs', status: 'Enabled', filter: {}, expiration: { days: ACCESS_LOG_DAYS } }] },
    ctx.res(),
  );
  const elb = aws.elb.getServiceAccountOutput({ region: ctx.region }, ctx.invoke);
  const policy = new aws.s3.BucketPolicy(
    'alb-logs-policy',
    {
      bucket: bucket.id,
      policy: policyDocument([
        {
          Sid: 'ElbLogDelivery',
          Effect: 'Allow',
          Principal: { AWS: elb.arn },
          Action: ['s3:PutObject'],
          Resource: [pulumi.interpolate`${bucket.arn}/AWSLogs/${ctx.accountId}/*`],
        },
        {
          Sid: 'DenyInsecureTransport',
          Effect: 'Deny',
          Principal: '*',
          Action: ['s3:*'],
          Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ]),
    },
    ctx.res({ dependsOn: [publicAccess] }),
  );
  return { bucket: bucket.bucket, ready: [policy] };
}
