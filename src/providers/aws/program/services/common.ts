import * as aws from '@pulumi/aws';
import type * as pulumi from '@pulumi/pulumi';
import { snapshotIdentifier } from '../aws-names.js';
import type { ServiceModel } from '../../../../model/stage-model.js';
import type { ProgramContext } from '../context.js';
import type { Network } from '../network.js';

/**
 * The security group of a private service: no ingress rule of its own (linked apps get one
 * each, from their own group, in `links.ts`) and no egress.
 */
export function serviceSecurityGroup(ctx: ProgramContext, network: Network, name: string): aws.ec2.SecurityGroup {
  return new aws.ec2.SecurityGroup(
    `svc-${name}-sg`,
    { vpcId: network.vpcId, description: `service/${name} in ${ctx.names.key}: ingress from linked apps only`, egress: [] },
    ctx.res(),
  );
}

/** A numeric option (`minStorage` or its SetOps spelling `min_storage`), else `fallback`. */
export function numberOption(model: ServiceModel, keys: string[], fallback: number): number {
  for (const key of keys) {
    const v = model.options[key];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  }
  return fallback;
}

/** `plan` split into the instance class and whether it asks for multi-AZ (`.ha` suffix). */
export function planOf(model: ServiceModel, fallback: string): { instanceClass: string; ha: boolean } {
  const plan = model.plan ?? fallback;
  return plan.endsWith('.ha') ? { instanceClass: plan.slice(0, -3), ha: true } : { instanceClass: plan, ha: false };
}

/** Multi-AZ: asked for by a `.ha` plan, and always on protected stages (production posture). */
export function multiAzOf(ctx: ProgramContext, model: ServiceModel, fallback: string): { instanceClass: string; ha: boolean } {
  const { instanceClass, ha } = planOf(model, fallback);
  return { instanceClass, ha: ha || ctx.protectedStage };
}

/** Backup retention in days: the model's, at least 1 on protected stages (backups are never off there). */
export function retentionDays(ctx: ProgramContext, model: ServiceModel): number {
  return Math.max(model.backup.retentionDays, ctx.protectedStage ? 1 : 0);
}

/**
 * Final snapshot settings of a database (RDS, DocumentDB, ElastiCache): a final snapshot is
 * always taken when it is deleted, unless the Service says `finalSnapshot: false`. It is named
 * after stage, service and the time of the run that gave the database its snapshot name
 * (`<org>-<project>-<stage>-<service>-final-<yyyymmddhhmmss>`, a valid snapshot identifier,
 * see `snapshotIdentifier`); later runs keep the name the stack records for `logical`
 * (`recordedFinalSnapshots`), so a service deleted and created again never collides with the
 * snapshot of its predecessor, and nothing changes from run to run. Deletion protection does not
 * decide it: turning protection off to delete a database keeps its snapshot.
 */
export function finalSnapshot(
  ctx: ProgramContext,
  name: string,
  model: ServiceModel,
  logical: string,
): { skipFinalSnapshot: boolean; finalSnapshotIdentifier?: string } {
  if (model.finalSnapshot === false) return { skipFinalSnapshot: true };
  const id = ctx.recordedFinalSnapshots[logical] ?? snapshotIdentifier(`${ctx.names.prefix}-${name}-final-${ctx.runStamp}`);
  return { skipFinalSnapshot: false, finalSnapshotIdentifier: id };
}

/**
 * Resource options of a resource that holds data: on protected stages with deletion protection
 * Pulumi's own `protect` and `retainOnDelete` stop even a hand-run `pulumi destroy` from dropping it.
 */
export function statefulOptions(ctx: ProgramContext, model: ServiceModel, ignoreChanges: string[] = []): pulumi.CustomResourceOptions {
  const guarded = ctx.protectedStage && model.deletionProtection;
  return ctx.res({
    ...(ignoreChanges.length > 0 ? { ignoreChanges } : {}),
    ...(guarded ? { protect: true, retainOnDelete: true } : {}),
  });
}
