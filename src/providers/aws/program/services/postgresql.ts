import * as aws from '@pulumi/aws';
import type { ServiceModel } from '../../../../model/stage-model.js';
import type { ProgramContext } from '../context.js';
import type { Network } from '../network.js';
import { finalSnapshot, multiAzOf, numberOption, retentionDays, serviceSecurityGroup, statefulOptions } from './common.js';
import type { BuiltService } from './types.js';

/** Extensions that must be in `shared_preload_libraries` before `CREATE EXTENSION` works. */
const PRELOAD_EXTENSIONS = ['auto_explain', 'pg_cron', 'pg_stat_statements', 'pgaudit', 'pglogical'];

/** The master user of every setopsd database. */
export const POSTGRES_USER = 'setops';

/**
 * postgresql → an RDS PostgreSQL instance in the private subnets: engine version from
 * `version` (major, default 16), instance class from `plan` (default `db.t4g.micro`; `.ha`
 * suffix, and every protected stage → multi-AZ), gp3 storage from `minStorage` (default 20 GB) autoscaling up to
 * `maxStorage`, encrypted, TLS forced, not publicly accessible, backups and deletion protection
 * from the model; a final snapshot on delete (unless `finalSnapshot: false`) and the automated
 * backups kept for their retention.
 *
 * The master password is managed by RDS (`manageMasterUserPassword`): RDS generates it and keeps
 * it in a Secrets Manager secret it rotates, so it never passes through the program, Pulumi
 * state or outputs; linked apps receive it as an ECS secret. Extensions listed in
 * `options.extensions` that need preloading are added to `shared_preload_libraries`; the
 * extensions themselves are created by the app's migrations (`CREATE EXTENSION`).
 */
export function buildPostgresql(ctx: ProgramContext, network: Network, name: string, model: ServiceModel): BuiltService {
  const major = (model.version ?? '16').split('.')[0]!;
  const { instanceClass, ha } = multiAzOf(ctx, model, 'db.t4g.micro');
  const minStorage = Math.max(20, numberOption(model, ['minStorage', 'min_storage'], 20));
  const maxStorage = numberOption(model, ['maxStorage', 'max_storage'], 0);
  const extensions = Array.isArray(model.options.extensions) ? model.options.extensions.map(String) : [];
  const preload = PRELOAD_EXTENSIONS.filter((e) => extensions.includes(e));

  const sg = serviceSecurityGroup(ctx, network, name);
  const subnets = new aws.rds.SubnetGroup(
    `svc-${name}-subnets`,
    { subnetIds: network.privateSubnetIds, description: `service/${name} in ${ctx.names.key}` },
    ctx.res(),
  );
  const parameters = new aws.rds.ParameterGroup(
    `svc-${name}-params`,
    {
      family: `postgres${major}`,
      description: `service/${name} in ${ctx.names.key}`,
      parameters: [
        { name: 'rds.force_ssl', value: '1', applyMethod: 'pending-reboot' },
        ...(preload.length > 0 ? [{ name: 'shared_preload_libraries', value: preload.join(','), applyMethod: 'pending-reboot' }] : []),
      ],
    },
    ctx.res(),
  );
  const database = name.replace(/-/g, '_');
  const instance = new aws.rds.Instance(
    `svc-${name}-db`,
    {
      engine: 'postgres',
      engineVersion: model.version ?? '16',
      instanceClass,
      multiAz: ha,
      allocatedStorage: minStorage,
      ...(maxStorage > minStorage ? { maxAllocatedStorage: maxStorage } : {}),
      storageType: 'gp3',
      storageEncrypted: true,
      dbName: database,
      username: POSTGRES_USER,
      manageMasterUserPassword: true,
      dbSubnetGroupName: subnets.name,
      parameterGroupName: parameters.name,
      vpcSecurityGroupIds: [sg.id],
      publiclyAccessible: false,
      backupRetentionPeriod: retentionDays(ctx, model),
      deletionProtection: model.deletionProtection,
      ...finalSnapshot(ctx, name, model, `svc-${name}-db`),
      // Automated backups outlive the instance for their retention period.
      deleteAutomatedBackups: false,
      copyTagsToSnapshot: true,
      autoMinorVersionUpgrade: true,
      allowMajorVersionUpgrade: true,
      // Protected stages change in the maintenance window; the others at once.
      applyImmediately: !ctx.protectedStage,
    },
    statefulOptions(ctx, model),
  );
  const passwordSecretArn = instance.masterUserSecrets.apply((s) => s[0]?.secretArn ?? '');
  return {
    name,
    model,
    securityGroup: sg,
    connection: { type: 'postgresql', host: instance.address, port: 5432, database, username: POSTGRES_USER, passwordSecretArn },
    outputs: { type: 'postgresql', host: instance.address, port: 5432, database, username: POSTGRES_USER, credentialsSecretArn: passwordSecretArn, dbInstanceIdentifier: instance.identifier },
    dbInstanceIdentifier: instance.identifier,
  };
}
