import type * as aws from '@pulumi/aws';
import type * as pulumi from '@pulumi/pulumi';
import type { ServiceModel } from '../../../../model/stage-model.js';

/**
 * How apps connect to a built service; `links.ts` turns it into env vars, ECS secrets,
 * security-group rules and IAM policies. Never holds a password: generated credentials live
 * in Secrets Manager and are referenced by ARN (JSON key `password`).
 */
export type ServiceConnection =
  | { type: 'postgresql'; host: pulumi.Output<string>; port: number; database: string; username: string; passwordSecretArn: pulumi.Output<string> }
  | { type: 'redis'; host: pulumi.Output<string>; port: number; passwordSecretArn: pulumi.Output<string> }
  | { type: 'documentdb'; host: pulumi.Output<string>; port: number; username: string; passwordSecretArn: pulumi.Output<string> }
  | { type: 'elasticsearch'; endpoint: pulumi.Output<string>; port: number; domainName: pulumi.Output<string>; domainArn: pulumi.Output<string> }
  | { type: 's3'; bucketName: pulumi.Output<string>; bucketArn: pulumi.Output<string> }
  | {
      type: 'volume';
      fileSystemId: pulumi.Output<string>;
      fileSystemArn: pulumi.Output<string>;
      accessPointId: pulumi.Output<string>;
      accessPointArn: pulumi.Output<string>;
      port: number;
    };

/** One service of the stage as built by its module. */
export interface BuiltService {
  name: string;
  model: ServiceModel;
  /** Guards the service; linked apps get an ingress rule on `connection.port`. Absent for s3. */
  securityGroup?: aws.ec2.SecurityGroup;
  connection: ServiceConnection;
  /** Stack outputs for the service: endpoints and ids, never a password. */
  outputs: Record<string, pulumi.Input<unknown>>;
  /** Resources linked apps' services must wait for beyond the connection values (EFS mount targets, secret values). */
  ready?: pulumi.Resource[];
  /** RDS instance identifier, for the free-storage alarm. */
  dbInstanceIdentifier?: pulumi.Output<string>;
}
