import * as aws from '@pulumi/aws';
import type { ServiceModel } from '../../../../model/stage-model.js';
import type { ProgramContext } from '../context.js';
import type { Network } from '../network.js';
import { serviceSecurityGroup, statefulOptions } from './common.js';
import type { BuiltService } from './types.js';

/** The POSIX user the access point maps every client to. */
export const VOLUME_UID = 1000;

/**
 * volume → an encrypted EFS file system (elastic throughput, AWS Backup when the retention is
 * above 0), a mount target in each private subnet and an access point rooted at `/data`
 * (uid/gid 1000) that linked apps mount over TLS with IAM authorization.
 */
export function buildVolume(ctx: ProgramContext, network: Network, name: string, model: ServiceModel): BuiltService {
  const sg = serviceSecurityGroup(ctx, network, name);
  const fs = new aws.efs.FileSystem(
    `svc-${name}-efs`,
    {
      encrypted: true,
      performanceMode: 'generalPurpose',
      throughputMode: 'elastic',
      lifecyclePolicies: [{ transitionToIa: 'AFTER_30_DAYS' }],
      tags: { Name: `${ctx.names.prefix}-${name}` },
    },
    statefulOptions(ctx, model),
  );
  new aws.efs.BackupPolicy(
    `svc-${name}-backup`,
    { fileSystemId: fs.id, backupPolicy: { status: model.backup.retentionDays > 0 || ctx.protectedStage ? 'ENABLED' : 'DISABLED' } },
    ctx.res(),
  );
  const mountTargets = network.privateSubnetIds.map(
    (subnetId, i) => new aws.efs.MountTarget(`svc-${name}-mount-${'ab'[i]}`, { fileSystemId: fs.id, subnetId, securityGroups: [sg.id] }, ctx.res()),
  );
  const accessPoint = new aws.efs.AccessPoint(
    `svc-${name}-access-point`,
    {
      fileSystemId: fs.id,
      posixUser: { uid: VOLUME_UID, gid: VOLUME_UID },
      rootDirectory: { path: '/data', creationInfo: { ownerUid: VOLUME_UID, ownerGid: VOLUME_UID, permissions: '0755' } },
    },
    ctx.res(),
  );
  return {
    name,
    model,
    securityGroup: sg,
    connection: {
      type: 'volume',
      fileSystemId: fs.id,
      fileSystemArn: fs.arn,
      accessPointId: accessPoint.id,
      accessPointArn: accessPoint.arn,
      port: 2049,
    },
    outputs: { type: 'volume', fileSystemId: fs.id, accessPointId: accessPoint.id },
    // A task cannot mount the file system before a mount target exists in its subnet.
    ready: mountTargets,
  };
}
