/**
 * `setopsd status` for an AWS stage, from the stack outputs of the last update (pure; no live
 * AWS calls): app URLs, the task definition each ECS service runs against the one the update
 * asked for (and whether the circuit breaker rolled back), service endpoints, never a password.
 */
import type { StageModel } from '../../../model/stage-model.js';
import type { StageStatus } from '../../engine.js';
import { appOutputs, type AppOutput } from './rollout.js';
import { isSecretValue } from './values.js';

/** `family:revision` of a task definition ARN (the ARN itself when it has no `task-definition/`). */
export function shortTaskDefinition(arn: string): string {
  const i = arn.indexOf('task-definition/');
  return i < 0 ? arn : arn.slice(i + 'task-definition/'.length);
}

function appNote(a: AppOutput): string | undefined {
  const service = a.service ? `ECS service ${a.service}` : 'ECS service';
  const deployed = typeof a.deployedTaskDefinitionArn === 'string' ? shortTaskDefinition(a.deployedTaskDefinitionArn) : undefined;
  const requested = typeof a.taskDefinitionArn === 'string' ? shortTaskDefinition(a.taskDefinitionArn) : undefined;
  if (!deployed) return undefined;
  if (a.rolledBack === true) return `${service} runs ${deployed}: the last update asked for ${requested ?? '?'} and ECS rolled it back (failed health checks)`;
  if (requested && requested !== deployed) return `${service} runs ${deployed}; ${requested} is registered but not rolled out (its pre-deploy task did not succeed)`;
  return `${service} runs ${deployed}`;
}

/** Keys of service outputs never shown (credentials stay in Secrets Manager; only their ARN is recorded). */
const HIDDEN = /password|secret|token|type/i;

function serviceDetail(out: unknown): string | undefined {
  if (typeof out !== 'object' || out === null || Array.isArray(out)) return undefined;
  const rec = out as Record<string, unknown>;
  const parts = Object.keys(rec)
    .sort()
    .filter((k) => !HIDDEN.test(k) && !isSecretValue(rec[k]) && (typeof rec[k] === 'string' || typeof rec[k] === 'number'))
    .map((k) => `${k} ${String(rec[k])}`);
  return parts.length > 0 ? parts.join(', ') : undefined;
}

/**
 * The runtime view of a stage from its stack outputs and recorded model. `source` says where it
 * comes from: the renderer shows apps with their scale instead of a process health count.
 */
export function statusFromOutputs(outputs: Record<string, unknown> | null, model: StageModel | null): StageStatus {
  const apps: StageStatus['apps'] = {};
  const byApp = appOutputs(outputs);
  for (const name of [...new Set([...Object.keys(byApp), ...Object.keys(model?.apps ?? {})])].sort()) {
    const a = byApp[name] ?? {};
    const note = appNote(a);
    apps[name] = { processes: [], ...(typeof a.url === 'string' ? { url: a.url } : {}), ...(note ? { note } : {}) };
  }
  const services: StageStatus['services'] = {};
  const recorded = (outputs?.services ?? {}) as Record<string, unknown>;
  for (const name of [...new Set([...Object.keys(recorded), ...Object.keys(model?.services ?? {})])].sort()) {
    const out = recorded[name] as Record<string, unknown> | undefined;
    const type = model?.services[name]?.type ?? (typeof out?.type === 'string' ? out.type : 'unknown');
    const detail = serviceDetail(out);
    services[name] = { type, status: 'unknown', ...(detail ? { detail } : {}) };
  }
  const notes: string[] = [];
  const lb = outputs?.loadBalancer as { dnsName?: unknown } | undefined;
  if (typeof lb?.dnsName === 'string') notes.push(`load balancer ${lb.dnsName}`);
  const nlb = outputs?.networkLoadBalancer as { dnsName?: unknown } | undefined;
  if (typeof nlb?.dnsName === 'string') notes.push(`network load balancer ${nlb.dnsName}`);
  if (typeof outputs?.cluster === 'string') notes.push(`ECS cluster ${outputs.cluster}${typeof outputs.region === 'string' ? ` in ${outputs.region}` : ''}`);
  return {
    source: 'the Pulumi stack outputs of the last update; task health is not checked live (see the AWS console or CloudWatch)',
    ...(notes.length > 0 ? { notes } : {}),
    apps,
    services,
  };
}
