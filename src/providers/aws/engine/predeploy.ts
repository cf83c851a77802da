/**
 * The pre-deploy tasks of a two-phase rollout: each app's `preDeploy` command runs as a one-off
 * ECS task (ecs-tasks.ts) with the task definition and network the first, pinned update
 * recorded in the stack outputs. The ECS runner is loaded only when a task runs.
 */
import { EngineError, type SetopsError } from '../../../errors.js';
import type { Sleep } from '../../../deps.js';
import { stageKey, type StageRef } from '../../../model/stage-model.js';
import type { ApplyIO } from '../../engine.js';
import { awsClientSettings } from './aws-config.js';
import type { TaskRunInput, TaskRunner, TaskRunResult } from './ecs-tasks.js';
import { orEngineError } from './errors.js';
import { appOutputs } from './rollout.js';
import type { StackAccess } from './stack-access.js';

/** The stack outputs a pre-deploy task runs with. */
interface TaskOutputs {
  cluster: unknown;
  /** Output `preDeployTaskDefinitions`: app → task definition ARN. */
  definitions: Record<string, unknown>;
  /** Output `taskNetwork`. */
  network: { subnets?: unknown; securityGroups?: Record<string, unknown>; assignPublicIp?: unknown };
  /** App → log group (output `apps`). */
  logGroups: Record<string, string | undefined>;
}

/** What the pre-deploy tasks of one engine need; it keeps the task runner it made. */
export interface PreDeployOptions {
  stacks: StackAccess;
  env: Record<string, string | undefined>;
  region: string | undefined;
  sleep: Sleep;
  /** Injected runner (tests); default ECS `RunTask`. */
  runner?: TaskRunner;
}

/** Runs the `preDeploy` tasks between the two updates of a rollout with migrations. */
export class PreDeployTasks {
  private runner: TaskRunner | undefined;

  constructor(private readonly opts: PreDeployOptions) {
    this.runner = opts.runner;
  }

  /**
   * Runs the `preDeploy` task of each app in `apps` (in order) with the task definitions and
   * network the first, pinned update recorded; stops at the first that fails. Returns the error.
   */
  async run(ref: StageRef, apps: readonly string[], io: ApplyIO): Promise<SetopsError | undefined> {
    let outputs: TaskOutputs;
    try {
      outputs = taskOutputs((await this.opts.stacks.deployment(ref, io.signal))?.outputs ?? {});
    } catch (err) {
      return orEngineError(err, `${this.opts.stacks.subject(ref)}: cannot read the stack outputs: ${(err as Error).message}; the services were not updated. Apply again`);
    }
    for (const app of apps) {
      const failed = await this.runOne(ref, app, outputs, io);
      if (failed) return failed;
    }
    return undefined;
  }

  /** Runs one app's task, reporting progress; the error when it could not run or failed. */
  private async runOne(ref: StageRef, app: string, outputs: TaskOutputs, io: ApplyIO): Promise<SetopsError | undefined> {
    const subject = `app/${app} in ${stageKey(ref)}`;
    const input = taskInput(subject, app, outputs);
    if (!input) {
      return new EngineError(`${subject}: the stack records no pre-deploy task definition or task network for this app (outputs preDeployTaskDefinitions, taskNetwork, cluster); nothing was rolled out. Apply again; if it persists this is a bug`, {
        code: 'E_AWS_PREDEPLOY',
      });
    }
    io.progress({ subject: `app/${app}`, status: 'started', message: 'pre-deploy task' });
    let res: TaskRunResult;
    try {
      res = await (await this.tasks()).run(input, io.signal);
    } catch (err) {
      io.progress({ subject: `app/${app}`, status: 'failed', message: 'pre-deploy task' });
      return orEngineError(err, `${subject}: the pre-deploy task could not be run: ${(err as Error).message}; the services were not updated. Check the AWS credentials and the ECS cluster, then apply again`);
    }
    if (res.exitCode === 0) {
      io.progress({ subject: `app/${app}`, status: 'succeeded', message: 'pre-deploy task exited with 0' });
      return undefined;
    }
    io.progress({ subject: `app/${app}`, status: 'failed', message: res.exitCode === null ? 'pre-deploy task did not run' : `pre-deploy task exited with ${res.exitCode}` });
    return taskFailedError(subject, app, res, outputs.logGroups[app]);
  }

  /** The ECS task runner (also for one-off tasks, `one-off-task.ts`). */
  taskRunner(): Promise<TaskRunner> {
    return this.tasks();
  }

  private async tasks(): Promise<TaskRunner> {
    if (this.runner) return this.runner;
    // Loaded only when a pre-deploy task runs.
    const { createEcsTaskRunner } = await import('./ecs-tasks.js');
    this.runner = createEcsTaskRunner({ sleep: this.opts.sleep, client: awsClientSettings(this.opts.env, 'ECS', this.opts.region) });
    return this.runner;
  }
}

/** The outputs pre-deploy tasks read, from the stack outputs of the pinned update. */
function taskOutputs(outputs: Record<string, unknown>): TaskOutputs {
  const logGroups: Record<string, string | undefined> = {};
  for (const [app, out] of Object.entries(appOutputs(outputs))) logGroups[app] = out.logGroup;
  return {
    cluster: outputs.cluster,
    definitions: (outputs.preDeployTaskDefinitions ?? {}) as Record<string, unknown>,
    network: (outputs.taskNetwork ?? {}) as TaskOutputs['network'],
    logGroups,
  };
}

/** The task to run for `app`; null when the outputs do not record its task definition or network. */
function taskInput(subject: string, app: string, outputs: TaskOutputs): TaskRunInput | null {
  const { cluster, network: net } = outputs;
  const taskDefinition = outputs.definitions[app];
  const securityGroups = net.securityGroups?.[app];
  if (typeof taskDefinition !== 'string' || typeof cluster !== 'string' || !Array.isArray(net.subnets) || !Array.isArray(securityGroups)) return null;
  return {
    subject,
    cluster,
    taskDefinition,
    container: app,
    subnets: net.subnets as string[],
    securityGroups: securityGroups as string[],
    assignPublicIp: net.assignPublicIp === true,
    logStreamPrefix: 'predeploy',
  };
}

/** The error of a task that did not run or whose command failed; where to read its output. */
function taskFailedError(subject: string, app: string, res: TaskRunResult, logGroup: string | undefined): EngineError {
  const where =
    logGroup && res.logStream
      ? ` See its output with \`aws logs tail ${logGroup} --log-stream-names ${res.logStream}\`,`
      : ' See its output with `setopsd logs` for this app,';
  const what = res.exitCode === null ? `the pre-deploy task did not run (${res.reason})` : `the pre-deploy command exited with code ${res.exitCode} (${res.reason})`;
  return new EngineError(`${subject}: ${what}; the services were not updated and the previous version keeps serving.${where} fix it and apply again`, {
    // A command that ran and failed needs a fix; a task that could not start may next time.
    code: res.exitCode === null ? 'E_AWS_PREDEPLOY_NOT_STARTED' : 'E_AWS_PREDEPLOY_FAILED',
    data: { app, exitCode: res.exitCode, reason: res.reason, ...(res.taskArn ? { taskArn: res.taskArn } : {}), ...(res.logStream ? { logStream: res.logStream } : {}) },
  });
}
