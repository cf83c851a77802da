/**
 * One-off ECS tasks (an app's `preDeploy` command) run by the engine between the two updates
 * of a rollout with migrations. The engine sees only `TaskRunner`; `createEcsTaskRunner` is
 * the real one on `@aws-sdk/client-ecs` (credentials from the SDK's default chain, the
 * Organization's region).
 */
import { DescribeTasksCommand, ECSClient, ListTasksCommand, RunTaskCommand, StopTaskCommand, type ECSClientConfig, type DesiredStatus } from '@aws-sdk/client-ecs';
import { CanceledError, EngineError } from '../../../errors.js';
import { awsCallCode } from '../../../error-codes.js';
import type { Sleep } from '../../../deps.js';

/** What to run: a Fargate task of `taskDefinition` in the stage's private network. */
export interface TaskRunInput {
  /** Who asks, for messages: `app/web in acme/shop/production`. */
  subject: string;
  /** ECS cluster name or ARN. */
  cluster: string;
  taskDefinition: string;
  /** The container whose exit code decides (the app's container, named like the app). */
  container: string;
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: boolean;
  /** The task definition's `awslogs-stream-prefix`: gives the task's log stream name. */
  logStreamPrefix?: string;
  /** One-off tasks: the container's command instead of the task definition's (a container override). */
  command?: string[];
  /** One-off tasks: env variables set on the container for this run. */
  environment?: Record<string, string>;
  /**
   * One-off tasks: a cancel (SIGINT) stops the task with ECS StopTask, giving this reason, as
   * Ctrl-C stops a local command. Without it (pre-deploy) a cancel leaves the task to finish and
   * says how to stop it.
   */
  stopOnCancel?: string;
}

/** How a task ended. `exitCode` null: it never ran its command (failed to start, no exit code). */
export interface TaskRunResult {
  exitCode: number | null;
  /** ECS's reason (`Essential container in task exited`, a RunTask failure, …). */
  reason: string;
  /** `<prefix>/<container>/<task id>` in the app's log group, when the prefix is known. */
  logStream?: string;
  taskArn?: string;
}

/** Runs one task to its end. Throws an EngineError when ECS cannot be asked, CanceledError on abort. */
export interface TaskRunner {
  /** `watch` is awaited after each look at the running task (one-off tasks: to stream its log). */
  run(input: TaskRunInput, signal: AbortSignal, watch?: TaskWatch): Promise<TaskRunResult>;
  /**
   * The tasks of a task definition family ECS knows now, running and stopped (ECS keeps a stopped
   * task for at least an hour), with their group (`schedule:NAME` for scheduled runs).
   */
  recent?(input: { subject: string; cluster: string; family: string }, signal: AbortSignal): Promise<EcsTaskSummary[]>;
}

/** One task as ECS describes it. */
export interface EcsTaskSummary {
  taskArn: string;
  group?: string;
  startedBy?: string;
  lastStatus: string;
  /** The command override of `container`, when there is one. */
  command?: string[];
  createdAt?: string;
  startedAt?: string;
  /** When ECS began to stop the task (a StopTask call, or its essential container exiting). */
  stoppingAt?: string;
  stoppedAt?: string;
  stoppedReason?: string;
  /** Why ECS stopped it, as a code: `UserInitiated` when someone called StopTask (Step Functions at a timeout, too). */
  stopCode?: string;
  /** Exit code of each container by name. */
  exitCodes: Record<string, number>;
}

/** Called while a started task has not stopped yet, with where its output goes. */
export type TaskWatch = (task: { taskArn: string; logStream?: string; lastStatus: string }, signal: AbortSignal) => Promise<void>;

/** Options of the real runner. */
export interface EcsTaskRunnerOptions {
  /** The Organization's region. */
  region?: string;
  /** Extra client settings (tests: `endpoint` and static `credentials`). */
  client?: ECSClientConfig;
  sleep: Sleep;
  /** Between DescribeTasks calls; default 6 s (the SDK waiter's minimum delay for ECS). */
  pollMs?: number;
}

const STARTED_BY = 'setopsd';

/** How long a StopTask after a cancel may take. */
const STOP_TIMEOUT_MS = 10_000;

/** The real `TaskRunner`: `RunTask` (Fargate, awsvpc), then `DescribeTasks` until the task stopped. */
export function createEcsTaskRunner(opts: EcsTaskRunnerOptions): TaskRunner {
  let client: ECSClient | undefined;
  const ecs = (): ECSClient => (client ??= new ECSClient({ ...(opts.region ? { region: opts.region } : {}), ...opts.client }));
  const pollMs = opts.pollMs ?? 6000;

  const call = async <T>(input: TaskRunInput, what: string, signal: AbortSignal, send: () => Promise<T>): Promise<T> => {
    try {
      return await send();
    } catch (err) {
      if (signal.aborted) throw new CanceledError(`${input.subject}: canceled while ${what}`, { cause: err });
      const e = err as Error & { $metadata?: { httpStatusCode?: number } };
      throw new EngineError(`${input.subject}: ECS ${what} failed: ${e.name}: ${e.message}; check the AWS credentials and permissions (ecs:RunTask, ecs:ListTasks, ecs:DescribeTasks, iam:PassRole) and try again`, {
        code: awsCallCode(e, 'E_AWS_ECS'),
        cause: err,
        data: { error: e.name, ...(e.$metadata?.httpStatusCode ? { status: e.$metadata.httpStatusCode } : {}) },
      });
    }
  };

  return {
    async recent(input, signal) {
      const sub = { ...input, taskDefinition: input.family, container: '', subnets: [], securityGroups: [], assignPublicIp: false };
      const arns: string[] = [];
      for (const desiredStatus of ['RUNNING', 'STOPPED'] as DesiredStatus[]) {
        let nextToken: string | undefined;
        do {
          const page = await call(sub, 'ListTasks', signal, () =>
            ecs().send(new ListTasksCommand({ cluster: input.cluster, family: input.family, desiredStatus, ...(nextToken ? { nextToken } : {}) }), { abortSignal: signal }),
          );
          arns.push(...(page.taskArns ?? []));
          nextToken = page.nextToken;
        } while (nextToken);
      }
      const out: EcsTaskSummary[] = [];
      for (let i = 0; i < arns.length; i += 100) {
        const described = await call(sub, 'DescribeTasks', signal, () => ecs().send(new DescribeTasksCommand({ cluster: input.cluster, tasks: arns.slice(i, i + 100) }), { abortSignal: signal }));
        for (const task of described.tasks ?? []) {
          if (!task.taskArn) continue;
          const override = task.overrides?.containerOverrides?.find((c) => c.command !== undefined);
          const exitCodes: Record<string, number> = {};
          for (const c of task.containers ?? []) if (c.name && typeof c.exitCode === 'number') exitCodes[c.name] = c.exitCode;
          const iso = (d: Date | undefined) => (d instanceof Date ? { v: d.toISOString() } : undefined);
          out.push({
            taskArn: task.taskArn,
            lastStatus: task.lastStatus ?? 'PENDING',
            exitCodes,
            ...(task.group ? { group: task.group } : {}),
            ...(task.startedBy ? { startedBy: task.startedBy } : {}),
            ...(override?.command ? { command: override.command } : {}),
            ...(iso(task.createdAt) ? { createdAt: iso(task.createdAt)!.v } : {}),
            ...(iso(task.startedAt) ? { startedAt: iso(task.startedAt)!.v } : {}),
            ...(iso(task.stoppingAt) ? { stoppingAt: iso(task.stoppingAt)!.v } : {}),
            ...(iso(task.stoppedAt) ? { stoppedAt: iso(task.stoppedAt)!.v } : {}),
            ...(task.stoppedReason ? { stoppedReason: task.stoppedReason } : {}),
            ...(task.stopCode ? { stopCode: task.stopCode } : {}),
          });
        }
      }
      return out;
    },
    async run(input, signal, watch) {
      const started = await call(input, 'RunTask', signal, () =>
        ecs().send(
          new RunTaskCommand({
            cluster: input.cluster,
            taskDefinition: input.taskDefinition,
            launchType: 'FARGATE',
            count: 1,
            startedBy: STARTED_BY,
            networkConfiguration: {
              awsvpcConfiguration: {
                subnets: input.subnets,
                securityGroups: input.securityGroups,
                assignPublicIp: input.assignPublicIp ? 'ENABLED' : 'DISABLED',
              },
            },
            ...(input.command || input.environment ? { overrides: { containerOverrides: [containerOverride(input)] } } : {}),
          }),
          { abortSignal: signal },
        ),
      );
      const taskArn = started.tasks?.[0]?.taskArn;
      if (!taskArn) {
        const failures = (started.failures ?? []).map((f) => `${f.reason ?? 'failed'}${f.detail ? ` (${f.detail})` : ''}`);
        return { exitCode: null, reason: failures.length > 0 ? failures.join('; ') : 'ECS started no task' };
      }
      const taskId = taskArn.slice(taskArn.lastIndexOf('/') + 1);
      const logStream = input.logStreamPrefix ? { logStream: `${input.logStreamPrefix}/${input.container}/${taskId}` } : {};
      try {
        return await pollUntilStopped(taskArn, logStream);
      } catch (err) {
        if (!signal.aborted || input.stopOnCancel === undefined) throw err;
        // The caller's signal is spent: StopTask gets its own, bounded one.
        try {
          await ecs().send(new StopTaskCommand({ cluster: input.cluster, task: taskArn, reason: input.stopOnCancel }), { abortSignal: AbortSignal.timeout(STOP_TIMEOUT_MS) });
        } catch (stopErr) {
          throw new CanceledError(`${input.subject}: canceled; stopping the task ${taskArn} failed (${(stopErr as Error).name}), it may still be running in ECS (stop it with \`aws ecs stop-task --cluster ${input.cluster} --task ${taskArn}\`)`, { cause: err });
        }
        throw new CanceledError(`${input.subject}: canceled; the task ${taskArn} was stopped (ECS StopTask)`, { cause: err });
      }

      async function pollUntilStopped(taskArn: string, logStream: { logStream?: string }): Promise<TaskRunResult> {
        for (;;) {
          try {
            await opts.sleep(pollMs, signal);
          } catch (err) {
            if (!signal.aborted) throw err;
            throw new CanceledError(
              `${input.subject}: canceled while waiting for the pre-deploy task ${taskArn}; it may still be running in ECS ` +
                `(stop it with \`aws ecs stop-task --cluster ${input.cluster} --task ${taskArn}\`)`,
              { cause: err },
            );
          }
          const described = await call(input, 'DescribeTasks', signal, () =>
            ecs().send(new DescribeTasksCommand({ cluster: input.cluster, tasks: [taskArn] }), { abortSignal: signal }),
          );
          const task = described.tasks?.[0];
          if (!task) {
            const why = described.failures?.map((f) => f.reason).filter(Boolean).join('; ');
            return { exitCode: null, reason: why ? `ECS lost the task: ${why}` : 'ECS lost the task', taskArn, ...logStream };
          }
          if (task.lastStatus !== 'STOPPED') {
            if (watch) await watch({ taskArn, lastStatus: task.lastStatus ?? 'PENDING', ...logStream }, signal);
            continue;
          }
          const container = task.containers?.find((c) => c.name === input.container) ?? task.containers?.[0];
          const exitCode = typeof container?.exitCode === 'number' ? container.exitCode : null;
          const reason = [container?.reason, task.stoppedReason].filter((r): r is string => typeof r === 'string' && r !== '').join('; ') || 'stopped';
          return { exitCode, reason, taskArn, ...logStream };
        }
      }
    },
  };
}

/** The container override of a one-off task: its command and extra env. */
function containerOverride(input: TaskRunInput): { name: string; command?: string[]; environment?: { name: string; value: string }[] } {
  return {
    name: input.container,
    ...(input.command ? { command: input.command } : {}),
    ...(input.environment ? { environment: Object.keys(input.environment).sort().map((name) => ({ name, value: input.environment![name]! })) } : {}),
  };
}
