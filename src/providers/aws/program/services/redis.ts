import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { ServiceModel } from '../../../../model/stage-model.js';
import type { ProgramContext } from '../context.js';
import type { Network } from '../network.js';
import { finalSnapshot, multiAzOf, retentionDays, serviceSecurityGroup, statefulOptions } from './common.js';
import type { BuiltService } from './types.js';
import { redisEngineVersion } from './versions.js';

/**
 * redis → an ElastiCache replication group in the private subnets with TLS (transit
 * encryption), encryption at rest and AUTH; node type from `plan` (default `cache.t4g.micro`;
 * `.ha`, and every protected stage → a replica in the second zone with automatic failover); snapshots kept for the
 * backup retention.
 *
 * The AUTH token: ElastiCache needs it as an input, so it cannot stay out of Pulumi state. It is
 * generated once by Secrets Manager (`GetRandomPassword`), kept in a Secrets Manager secret
 * (JSON key `password`) that linked apps receive as an ECS secret, and held in Pulumi state
 * only as an encrypted secret. `ignoreChanges` keeps the first token: later runs do not rotate it.
 */
export function buildRedis(ctx: ProgramContext, network: Network, name: string, model: ServiceModel): BuiltService {
  const { instanceClass, ha } = multiAzOf(ctx, model, 'cache.t4g.micro');
  const sg = serviceSecurityGroup(ctx, network, name);
  const subnets = new aws.elasticache.SubnetGroup(
    `svc-${name}-subnets`,
    { subnetIds: network.privateSubnetIds, description: `service/${name} in ${ctx.names.key}` },
    ctx.res(),
  );
  const token = pulumi.secret(
    aws.secretsmanager.getRandomPasswordOutput({ passwordLength: 64, excludePunctuation: true }, ctx.invoke).apply(
      (r) => r.randomPassword ?? '',
    ),
  );
  const secret = new aws.secretsmanager.Secret(
    `svc-${name}-auth`,
    { description: `AUTH token of service/${name} in ${ctx.names.key}`, recoveryWindowInDays: ctx.protectedStage ? 7 : 0 },
    ctx.res(),
  );
  const secretValue = new aws.secretsmanager.SecretVersion(
    `svc-${name}-auth-value`,
    { secretId: secret.id, secretString: pulumi.jsonStringify({ password: token }) },
    ctx.res({ ignoreChanges: ['secretString'] }),
  );
  const snapshot = finalSnapshot(ctx, name, model, `svc-${name}-redis`);
  const group = new aws.elasticache.ReplicationGroup(
    `svc-${name}-redis`,
    {
      description: `service/${name} in ${ctx.names.key}`,
      engine: 'redis',
      engineVersion: redisEngineVersion(model.version),
      nodeType: instanceClass,
      numCacheClusters: ha ? 2 : 1,
      automaticFailoverEnabled: ha,
      multiAzEnabled: ha,
      port: 6379,
      subnetGroupName: subnets.name,
      securityGroupIds: [sg.id],
      atRestEncryptionEnabled: true,
      transitEncryptionEnabled: true,
      authToken: token,
      snapshotRetentionLimit: retentionDays(ctx, model),
      // A final snapshot on delete unless the Service says `finalSnapshot: false`.
      ...(snapshot.finalSnapshotIdentifier ? { finalSnapshotIdentifier: snapshot.finalSnapshotIdentifier } : {}),
      autoMinorVersionUpgrade: true,
      applyImmediately: !ctx.protectedStage,
    },
    statefulOptions(ctx, model, ['authToken']),
  );
  return {
    name,
    model,
    securityGroup: sg,
    connection: { type: 'redis', host: group.primaryEndpointAddress, port: 6379, passwordSecretArn: secret.arn },
    outputs: { type: 'redis', host: group.primaryEndpointAddress, port: 6379, credentialsSecretArn: secret.arn, replicationGroupId: group.id },
    // Tasks read REDIS_PASSWORD from the secret at start: its value must exist by then.
    ready: [secretValue],
  };
}
