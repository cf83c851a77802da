/**
 * One-off tasks on AWS (`setopsd task run`): ECS RunTask of the app's current task definition
 * (stack output `apps.<app>.taskDefinitionArn`) in the stage network, with the command as a
 * container override and `--env` as extra environment; the exit code comes from the stopped task,
 * the output is in the app's CloudWatch log group under the app's stream prefix. With
 * `task.write` and a log reader, the stream is read while the task runs (after each look at the
 * task) and to its end once it stopped, so the caller sees the output as it comes.
 */
import { EngineError } from '../../../errors.js';
import { stageKey, type StageRef } from '../../../model/stage-model.js';
import type { OneOffTask, OneOffTaskResult } from '../../engine.js';
import type { TaskRunner, TaskWatch } from './ecs-tasks.js';
import { TaskLogFollower, type LogStreamReader } from './task-logs.js';
import { appOutputs } from './rollout.js';
import type { StackAccess } from './stack-access.js';

export async function runOneOffTask(stacks: StackAccess, ref: StageRef, task: OneOffTask, o: { runner: () => Promise<TaskRunner>; logs?: () => Promise<LogStreamReader>; onLogError?: (err: unknown) => void; signal: AbortSignal }): Promise<OneOffTaskResult> {
  const subject = `app/${task.app} in ${stageKey(ref)}`;
  const outputs = (await stacks.deployment(ref, o.signal))?.outputs ?? {};
  const app = appOutputs(outputs)[task.app];
  const net = (outputs.taskNetwork ?? {}) as { subnets?: unknown; securityGroups?: Record<string, unknown>; assignPublicIp?: unknown };
  const taskDefinition = app?.deployedTaskDefinitionArn ?? app?.taskDefinitionArn;
  const securityGroups = net.securityGroups?.[task.app];
  if (typeof taskDefinition !== 'string' || typeof outputs.cluster !== 'string' || !Array.isArray(net.subnets) || !Array.isArray(securityGroups)) {
    throw new EngineError(`${subject}: the stack records no task definition or task network for this app (outputs apps.${task.app}.taskDefinitionArn, taskNetwork, cluster); apply the stage first`, { code: 'E_NOT_DEPLOYED' });
  }
  const follower = task.write && o.logs && typeof app?.logGroup === 'string' ? new TaskLogFollower(await o.logs(), app.logGroup, task.write, o.onLogError ?? (() => {})) : undefined;
  const watch: TaskWatch | undefined = follower ? async (t, signal) => void (t.logStream && (await follower.poll(t.logStream, signal))) : undefined;
  const res = await (await o.runner()).run(
    {
      subject,
      cluster: outputs.cluster,
      taskDefinition,
      container: task.app,
      subnets: net.subnets as string[],
      securityGroups: securityGroups as string[],
      assignPublicIp: net.assignPublicIp === true,
      logStreamPrefix: task.app,
      command: task.argv,
      ...(Object.keys(task.env).length > 0 ? { environment: task.env } : {}),
    },
    o.signal,
    watch,
  );
  if (follower && res.logStream) await follower.drain(res.logStream, o.signal);
  return { exitCode: res.exitCode, reason: res.reason, ...(app?.logGroup ? { logGroup: app.logGroup } : {}), ...(res.logStream ? { logStream: res.logStream } : {}), ...(res.taskArn ? { taskArn: res.taskArn } : {}), ...(follower && res.logStream && follower.complete ? { streamed: true } : {}) };
}
