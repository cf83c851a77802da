import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { AppModel } from '../../../model/stage-model.js';
import type { ProgramContext } from './context.js';
import { policyDocument, type Statement } from './iam.js';
import { isPrimaryPostgresLink, keyPrefix, linkKeys } from './link-keys.js';
import type { BuiltService } from './services/index.js';

/** An EFS mount of a linked volume. */
export interface VolumeMount {
  /** Task definition volume name (the service name). */
  volume: string;
  containerPath: string;
  readOnly: boolean;
  fileSystemId: pulumi.Output<string>;
  accessPointId: pulumi.Output<string>;
}

/** What an app's links add to its containers. */
export interface LinkGrant {
  /** Plain env vars: connection settings, never a password. */
  environment: Record<string, pulumi.Input<string>>;
  /** ECS secrets: env var → `valueFrom` (Secrets Manager ARN with JSON key). */
  secrets: Record<string, pulumi.Input<string>>;
  mounts: VolumeMount[];
  /**
   * What the app's tasks need before they start: the ingress rules into its services, its task
   * role policy (EFS mounts use IAM authorization) and what the services declare (`BuiltService.ready`).
   */
  dependsOn: pulumi.Resource[];
}

/**
 * Wires one app to the services it links (names from `link-keys.ts`): env vars and ECS
 * secrets with the connection settings, an ingress rule on the service's security group from
 * the app's group (the only way in), and task role policies for s3 buckets and EFS volumes.
 */
export function linkApp(
  ctx: ProgramContext,
  appName: string,
  app: AppModel,
  appSecurityGroup: aws.ec2.SecurityGroup,
  taskRole: aws.iam.Role,
  services: Record<string, BuiltService>,
): LinkGrant {
  const grant: LinkGrant = { environment: {}, secrets: {}, mounts: [], dependsOn: [] };
  const statements: Statement[] = [];
  for (const serviceName of Object.keys(app.links).sort()) {
    const link = app.links[serviceName]!;
    const built = services[serviceName]!;
    const c = built.connection;
    const keys = linkKeys(c.type, link, isPrimaryPostgresLink(ctx.model, app, serviceName));
    const prefix = keyPrefix(keys.main);
    grant.dependsOn.push(...(built.ready ?? []));
    if (built.securityGroup && 'port' in c) {
      const ingress = new aws.vpc.SecurityGroupIngressRule(
        `link-${appName}-${serviceName}-ingress`,
        {
          securityGroupId: built.securityGroup.id,
          referencedSecurityGroupId: appSecurityGroup.id,
          ipProtocol: 'tcp',
          fromPort: c.port,
          toPort: c.port,
          description: `app/${appName} → service/${serviceName}`,
        },
        ctx.res(),
      );
      grant.dependsOn.push(ingress);
    }
    switch (c.type) {
      case 'postgresql': {
        grant.environment[keys.main] = pulumi.interpolate`postgresql://${c.username}@${c.host}:${c.port}/${c.database}?sslmode=require`;
        grant.secrets[`${prefix}_PASSWORD`] = pulumi.interpolate`${c.passwordSecretArn}:password::`;
        if (keys.secrets.includes('PGPASSWORD')) {
          Object.assign(grant.environment, { PGHOST: c.host, PGPORT: String(c.port), PGUSER: c.username, PGDATABASE: c.database, PGSSLMODE: 'require' });
          grant.secrets.PGPASSWORD = pulumi.interpolate`${c.passwordSecretArn}:password::`;
        }
        break;
      }
      case 'redis':
        grant.environment[keys.main] = pulumi.interpolate`rediss://${c.host}:${c.port}`;
        grant.secrets[`${prefix}_PASSWORD`] = pulumi.interpolate`${c.passwordSecretArn}:password::`;
        break;
      case 'documentdb':
        grant.environment[keys.main] = pulumi.interpolate`mongodb://${c.username}@${c.host}:${c.port}/?tls=true&replicaSet=rs0&readPreference=secondaryPreferred&retryWrites=false`;
        grant.secrets[`${prefix}_PASSWORD`] = pulumi.interpolate`${c.passwordSecretArn}:password::`;
        break;
      case 'elasticsearch':
        grant.environment[keys.main] = pulumi.interpolate`https://${c.endpoint}`;
        // The domain policy admits the task role; the role may call the domain's HTTP API.
        statements.push({ Sid: sid('Search', serviceName), Effect: 'Allow', Action: ['es:ESHttp*'], Resource: [pulumi.interpolate`${c.domainArn}/*`] });
        break;
      case 's3':
        grant.environment[keys.main] = c.bucketName;
        grant.environment[`${prefix}_REGION`] = ctx.region;
        statements.push(
          { Sid: sid('List', serviceName), Effect: 'Allow', Action: ['s3:GetBucketLocation', 's3:ListBucket'], Resource: [c.bucketArn] },
          {
            Sid: sid('Objects', serviceName),
            Effect: 'Allow',
            Action: ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject'],
            Resource: [pulumi.interpolate`${c.bucketArn}/*`],
          },
        );
        break;
      case 'volume': {
        const path = link.path ?? `/mnt/${serviceName}`;
        grant.environment[keys.main] = path;
        grant.mounts.push({ volume: serviceName, containerPath: path, readOnly: link.readOnly ?? false, fileSystemId: c.fileSystemId, accessPointId: c.accessPointId });
        statements.push({
          Sid: sid('Mount', serviceName),
          Effect: 'Allow',
          Action: link.readOnly ? ['elasticfilesystem:ClientMount'] : ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
          Resource: [c.fileSystemArn],
          Condition: { StringEquals: { 'elasticfilesystem:AccessPointArn': c.accessPointArn } },
        });
        break;
      }
    }
  }
  if (statements.length > 0) {
    grant.dependsOn.push(
      new aws.iam.RolePolicy(`app-${appName}-links-policy`, { role: taskRole.name, policy: policyDocument(statements) }, ctx.res()),
    );
  }
  return grant;
}

/** An IAM statement id (alphanumeric only) for a service. */
function sid(what: string, service: string): string {
  return `${what}${service.replace(/[^A-Za-z0-9]/g, '')}`;
}
