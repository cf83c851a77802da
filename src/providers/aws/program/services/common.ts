import * as aws from '@pulumi/aws';
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

/** Backup retention in days: the model's, at least 1 on protected stages (backups are never off there). */
export function retentionDays(ctx: ProgramContext, model: ServiceModel): number {
  return Math.max(model.backup.retentionDays, ctx.protectedStage ? 1 : 0);
}

/** Final snapshot settings: taken when the service is deletion-protected. */
export function finalSnapshot(ctx: ProgramContext, name: string, model: ServiceModel): { skipFinalSnapshot: boolean; finalSnapshotIdentifier?: string } {
  return model.deletionProtection
    ? { skipFinalSnapshot: false, finalSnapshotIdentifier: `${ctx.names.prefix}-${name}-final` }
    : { skipFinalSnapshot: true };
}
