/**
 * `setopsd redeploy` on AWS: after an update of the unchanged model, each app to restart gets a
 * forced new ECS deployment (`UpdateService` with `forceNewDeployment`): ECS starts new tasks of
 * the same task definition and drains the old ones, as for any rollout.
 */
import { awsCallCode } from '../../../error-codes.js';
import { CanceledError, EngineError, type SetopsError } from '../../../errors.js';
import { stageKey, type StageRef } from '../../../model/stage-model.js';
import type { ApplyIO, ApplyResult } from '../../engine.js';
import { awsClientSettings } from './aws-config.js';
import type { EngineParts, ServiceRestarter } from './parts.js';


/** The real restarter: `UpdateService` through `@aws-sdk/client-ecs` (loaded on first use). */
export function ecsRestarter(env: Record<string, string | undefined>, region: string | undefined): ServiceRestarter {
  type Update = (input: { cluster: string; service: string }, signal: AbortSignal) => Promise<unknown>;
  let update: Promise<Update> | undefined;
  const ecs = (): Promise<Update> =>
    (update ??= import('@aws-sdk/client-ecs').then((m) => {
      const c = new m.ECSClient(awsClientSettings(env, 'ECS', region));
      return (input, signal) => c.send(new m.UpdateServiceCommand({ ...input, forceNewDeployment: true }), { abortSignal: signal });
    }));
  return async (input, signal) => {
    const send = await ecs();
    try {
      await send({ cluster: input.cluster, service: input.service }, signal);
    } catch (err) {
      if (signal.aborted) throw new CanceledError(`${input.subject}: canceled while starting a new ECS deployment`, { cause: err });
      const e = err as Error & { $metadata?: { httpStatusCode?: number } };
      throw new EngineError(`${input.subject}: ECS UpdateService failed: ${e.name}: ${e.message}; check the AWS credentials and permissions (ecs:UpdateService) and redeploy again`, {
        code: awsCallCode(e, 'E_AWS_ECS'),
        cause: err,
      });
    }
  };
}

/** Forces a new deployment of each app in `io.restart` after a successful update; the result says which did. */
export async function restartApps(parts: EngineParts, ref: StageRef, io: ApplyIO, result: ApplyResult): Promise<ApplyResult> {
  const apps = io.restart ?? [];
  if (result.status !== 'succeeded' || apps.length === 0) return result;
  const info = await parts.stacks.deployment(ref, io.signal);
  const cluster = info?.outputs?.cluster;
  const restart = parts.restarter ?? (parts.restarter = ecsRestarter(parts.ctx.deps.env, parts.ctx.organization.aws?.region));
  for (const app of apps) {
    const subject = `app/${app} in ${stageKey(ref)}`;
    io.progress({ subject: `app/${app}`, status: 'started', message: 'starting a new ECS deployment' });
    let error: SetopsError | undefined;
    if (typeof cluster !== 'string') error = new EngineError(`${subject}: the stack records no ECS cluster (output cluster); apply the stage again, then redeploy`, { code: 'E_AWS_ECS' });
    else await restart({ cluster, service: app, subject }, io.signal).catch((err: SetopsError) => (error = err));
    if (error) {
      io.progress({ subject: `app/${app}`, status: 'failed', message: error.message });
      return { ...result, status: 'failed', error };
    }
    io.progress({ subject: `app/${app}`, status: 'succeeded', message: 'new ECS deployment started (same task definition)' });
  }
  return result;
}
