/**
 * The Pulumi engine (`provider: aws`): one Pulumi stack per stage, driven by the Automation API
 * with an inline program built from the stage's StageModel (inline-program.ts). This file
 * implements `Engine` by composing the parts:
 *
 * - `read`: the StageModel the stack records, from the checkpoint file or `pulumi stack export`
 *   (stack-access.ts).
 * - `preview`, `destroy` and `refresh` (stack-operations.ts) and `apply` (`up`) need the CLI
 *   and, on DIY backends, the passphrase; engine events become plan lines and progress (run.ts,
 *   events/translate.ts); the result of an update or destroy is built in apply-result.ts.
 * - `apply`: checks the stage's SSM parameters exist; when an app with `preDeploy` is new or
 *   changed, updates with the running services pinned, runs the pre-deploy tasks and updates
 *   again; an update the ECS circuit breaker rolled back is a failed deployment (apply.ts).
 * - `status`: the last update's stack outputs, no live AWS call (status.ts).
 * - `logs`: the app's log group from the stack outputs (logs.ts).
 */
import { EngineError } from '../../../errors.js';
import { stageKey, type StageRef } from '../../../model/stage-model.js';
import type { Engine, EngineContext, LogsOptions, StageStatus } from '../../engine.js';
import { applyStage } from './apply.js';
import { tailLogGroup } from './logs.js';
import { awsClientSettings } from './aws-config.js';
import { destroyStage, previewStage, refreshStage } from './stack-operations.js';
import type { PulumiEngineOptions } from './options.js';
import type { EngineParts } from './parts.js';
import { PreDeployTasks } from './predeploy.js';
import { SecretsCheck } from './secrets-check.js';
import { StackAccess } from './stack-access.js';
import { statusFromOutputs } from './status.js';
import { runOneOffTask } from './one-off-task.js';
import { scheduledRuns } from './scheduled-runs.js';

export type { PulumiEngineOptions, StageProgramFactory } from './options.js';

/** Creates the Pulumi engine for an organization with `provider: aws`. */
export function createPulumiEngine(ctx: EngineContext, opts: PulumiEngineOptions = {}): Engine {
  const parts = engineParts(ctx, opts);
  const { stacks } = parts;
  return {
    name: 'pulumi',
    read: (ref, signal) => stacks.read(ref, signal),
    preview: (desired, _actual, signal) => previewStage(parts, desired, signal),
    apply: (desired, _changes, io) => applyStage(parts, desired, io),
    destroy: (ref, io) => destroyStage(parts, ref, io),
    status: (ref, signal) => stageStatus(parts, ref, signal),
    logs: (ref, app, logsOpts) => appLogs(parts, ref, app, logsOpts),
    refresh: (ref, signal) => refreshStage(parts, ref, signal),
    runTask: (ref, task, signal) =>
      runOneOffTask(parts.stacks, ref, task, {
        runner: () => parts.preDeploy.taskRunner(),
        logs: async () => opts.logReader ?? (await import('./cloudwatch-log-reader.js')).createCloudWatchLogReader({ client: awsClientSettings(ctx.deps.env, 'CLOUDWATCH_LOGS', ctx.organization.aws?.region) }),
        onLogError: (err) => ctx.deps.log.warn({ stage: stageKey(ref), app: task.app, err: String((err as Error)?.message ?? err) }, `app/${task.app} in ${stageKey(ref)}: the task's output cannot be read from CloudWatch Logs now; it keeps running`),
        signal,
      }),
    scheduledRuns: (ref, signal) => scheduledRuns(parts.stacks, ref, { runner: () => parts.preDeploy.taskRunner(), signal }),
    backups: async (ref, service, model, signal) => {
      const outputs = (await stacks.deployment(ref, signal))?.outputs ?? {};
      const { awsServiceBackups } = await import('../backups/index.js');
      return awsServiceBackups({
        ref,
        service,
        model,
        outputs: ((outputs.services ?? {}) as Record<string, Record<string, unknown>>)[service],
        clients: (name) => opts.awsClients?.[name] ?? awsClientSettings(ctx.deps.env, name, ctx.organization.aws?.region),
        now: () => ctx.deps.clock.now(),
      });
    },
  };
}

/** The parts of one engine; each keeps what it loaded (CLI, plugins, AWS clients) for the engine's life. */
function engineParts(ctx: EngineContext, opts: PulumiEngineOptions): EngineParts {
  const env = ctx.deps.env;
  const region = ctx.organization.aws?.region;
  const stacks = new StackAccess(ctx, opts);
  return {
    ctx,
    opts,
    stacks,
    secrets: new SecretsCheck(env, region, opts.parameterChecker),
    preDeploy: new PreDeployTasks({ stacks, env, region, sleep: ctx.deps.sleep, ...(opts.taskRunner ? { runner: opts.taskRunner } : {}) }),
  };
}

/** From the recorded stack outputs (checkpoint file or `stack export`): no live AWS calls. */
async function stageStatus(parts: EngineParts, ref: StageRef, signal?: AbortSignal): Promise<StageStatus | null> {
  const info = await parts.stacks.deployment(ref, signal);
  if (!info || info.serial === null) return null;
  return statusFromOutputs(info.outputs, parts.stacks.modelOf(ref, info));
}

/** Tails the log group the stack records for `app`. */
async function appLogs(parts: EngineParts, ref: StageRef, app: string, opts: LogsOptions): Promise<void> {
  const subject = `app/${app} in ${stageKey(ref)}`;
  const info = await parts.stacks.deployment(ref, opts.signal);
  const apps = info?.outputs?.apps as Record<string, { logGroup?: unknown }> | undefined;
  const logGroup = apps?.[app]?.logGroup;
  if (typeof logGroup !== 'string' || logGroup === '') {
    throw new EngineError(`${subject}: the stack records no log group for this app; apply the stage first`, {
      code: 'E_NOT_DEPLOYED',
    });
  }
  const region = parts.ctx.organization.aws?.region;
  await tailLogGroup({ ...opts, subject, logGroup, env: parts.ctx.deps.env, ...(region ? { region } : {}) });
}
