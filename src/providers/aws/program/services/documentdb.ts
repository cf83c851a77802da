import * as aws from '@pulumi/aws';
import type { ServiceModel } from '../../../../model/stage-model.js';
import type { ProgramContext } from '../context.js';
import type { Network } from '../network.js';
import { finalSnapshot, numberOption, planOf, retentionDays, serviceSecurityGroup, statefulOptions } from './common.js';
import type { BuiltService } from './types.js';
import { documentdbEngineVersion } from './versions.js';

/** Master user of every DocumentDB cluster. */
export const DOCUMENTDB_USER = 'setops';

/**
 * documentdb → a DocumentDB cluster (engine `version` 4 → `4.0.0`) in the private subnets,
 * encrypted, TLS on (the default parameter group), backups (at least 1 day, DocumentDB's
 * minimum) and deletion protection from the model, with `options.scale` instances (default 1)
 * of class `plan` (default `db.t3.medium`). The master password is managed by DocumentDB in
 * Secrets Manager (`manageMasterUserPassword`), never in state or outputs.
 */
export function buildDocumentdb(ctx: ProgramContext, network: Network, name: string, model: ServiceModel): BuiltService {
  const engineVersion = documentdbEngineVersion(model.version);
  const { instanceClass } = planOf(model, 'db.t3.medium');
  const scale = Math.max(1, Math.min(16, numberOption(model, ['scale'], 1)));
  const sg = serviceSecurityGroup(ctx, network, name);
  const subnets = new aws.docdb.SubnetGroup(
    `svc-${name}-subnets`,
    { subnetIds: network.privateSubnetIds, description: `service/${name} in ${ctx.names.key}` },
    ctx.res(),
  );
  const cluster = new aws.docdb.Cluster(
    `svc-${name}-docdb`,
    {
      engine: 'docdb',
      engineVersion,
      masterUsername: DOCUMENTDB_USER,
      manageMasterUserPassword: true,
      storageEncrypted: true,
      dbSubnetGroupName: subnets.name,
      vpcSecurityGroupIds: [sg.id],
      backupRetentionPeriod: Math.max(1, retentionDays(ctx, model)),
      deletionProtection: model.deletionProtection,
      ...finalSnapshot(ctx, name, model, `svc-${name}-docdb`),
      applyImmediately: !ctx.protectedStage,
    },
    statefulOptions(ctx, model),
  );
  for (let i = 0; i < scale; i++) {
    new aws.docdb.ClusterInstance(
      `svc-${name}-docdb-${i + 1}`,
      { clusterIdentifier: cluster.id, instanceClass, applyImmediately: !ctx.protectedStage, autoMinorVersionUpgrade: true },
      ctx.res(),
    );
  }
  const passwordSecretArn = cluster.masterUserSecrets.apply((s) => s[0]?.secretArn ?? '');
  return {
    name,
    model,
    securityGroup: sg,
    connection: { type: 'documentdb', host: cluster.endpoint, port: 27017, username: DOCUMENTDB_USER, passwordSecretArn },
    outputs: { type: 'documentdb', host: cluster.endpoint, port: 27017, username: DOCUMENTDB_USER, instances: scale, credentialsSecretArn: passwordSecretArn, clusterIdentifier: cluster.id },
  };
}
