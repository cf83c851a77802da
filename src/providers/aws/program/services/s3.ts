import * as aws from '@pulumi/aws';
import type { ServiceModel } from '../../../../model/stage-model.js';
import type { ProgramContext } from '../context.js';
import { policyDocument } from '../iam.js';
import { statefulOptions } from './common.js';
import type { BuiltService } from './types.js';

/**
 * s3 → a bucket with every public access blocked (option `blockPublicAccess`, default true),
 * owner-enforced object ownership (no ACLs), versioning, SSE-S3 encryption, TLS-only access,
 * and old object versions kept for the backup retention. A bucket without deletion protection
 * is emptied when it is deleted (the plan flags that as data loss first).
 */
export function buildS3(ctx: ProgramContext, name: string, model: ServiceModel): BuiltService {
  const blockPublic = model.options.blockPublicAccess ?? model.options.block_public_access ?? true;
  const bucket = new aws.s3.Bucket(`svc-${name}-bucket`, { forceDestroy: !model.deletionProtection }, statefulOptions(ctx, model));
  new aws.s3.BucketOwnershipControls(
    `svc-${name}-ownership`,
    { bucket: bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } },
    ctx.res(),
  );
  const block = blockPublic !== false;
  const publicAccess = new aws.s3.BucketPublicAccessBlock(
    `svc-${name}-public-access`,
    { bucket: bucket.id, blockPublicAcls: block, blockPublicPolicy: block, ignorePublicAcls: block, restrictPublicBuckets: block },
    ctx.res(),
  );
  new aws.s3.BucketVersioning(
    `svc-${name}-versioning`,
    { bucket: bucket.id, versioningConfiguration: { status: 'Enabled' } },
    ctx.res(),
  );
  new aws.s3.BucketServerSideEncryptionConfiguration(
    `svc-${name}-encryption`,
    { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' }, bucketKeyEnabled: true }] },
    ctx.res(),
  );
  new aws.s3.BucketLifecycleConfiguration(
    `svc-${name}-lifecycle`,
    {
      bucket: bucket.id,
      rules: [
        {
          id: 'noncurrent-versions',
          status: 'Enabled',
          filter: {},
          noncurrentVersionExpiration: { noncurrentDays: Math.max(1, model.backup.retentionDays) },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
        },
      ],
    },
    ctx.res(),
  );
  new aws.s3.BucketPolicy(
    `svc-${name}-policy`,
    {
      bucket: bucket.id,
      policy: policyDocument([
        {
          Sid: 'DenyInsecureTransport',
          Effect: 'Deny',
          Principal: '*',
          Action: ['s3:*'],
          Resource: [bucket.arn, bucket.arn.apply((arn) => `${arn}/*`)],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ]),
    },
    // A policy put before the public access block is in place may be rejected as public.
    ctx.res({ dependsOn: [publicAccess] }),
  );
  return {
    name,
    model,
    connection: { type: 's3', bucketName: bucket.bucket, bucketArn: bucket.arn },
    outputs: { type: 's3', bucket: bucket.bucket, region: ctx.region },
  };
}
