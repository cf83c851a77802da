/**
 * Runs of scheduled tasks on AWS (`setopsd task list`): EventBridge Scheduler starts them as ECS
 * tasks of the app's task definition in group `schedule:NAME` (see `program/schedules.ts`), so
 * ECS's own record is the truth about each run — its command, start, stop and exit code. ECS
 * keeps a stopped task for about an hour: `task list` records what it sees, and runs that ended
 * unseen longer ago are not known (their output stays in CloudWatch Logs).
 */
import { stageKey, type StageRef } from '../../../model/stage-model.js';
import type { ScheduledRun } from '../../engine.js';
import type { TaskRunner } from './ecs-tasks.js';
import { appOutputs } from './rollout.js';
import type { StackAccess } from './stack-access.js';

const GROUP = 'schedule:';

export async function scheduledRuns(stacks: StackAccess, ref: StageRef, o: { runner: () => Promise<TaskRunner>; signal: AbortSignal }): Promise<ScheduledRun[]> {
  const info = await stacks.deployment(ref, o.signal);
  const model = info ? stacks.modelOf(ref, info) : null;
  const outputs = info?.outputs ?? {};
  if (model === null || typeof outputs.cluster !== 'string') return [];
  const apps = appOutputs(outputs);
  const runner = await o.runner();
  if (runner.recent === undefined) return [];
  const out: ScheduledRun[] = [];
  for (const name of Object.keys(model.apps).sort()) {
    if (Object.keys(model.apps[name]!.schedules ?? {}).length === 0) continue;
    const app = apps[name];
    const family = familyOf(app?.taskDefinitionArn);
    if (family === undefined) continue;
    for (const task of await runner.recent({ subject: `app/${name} in ${stageKey(ref)}`, cluster: outputs.cluster, family }, o.signal)) {
      if (!task.group?.startsWith(GROUP)) continue;
      const id = task.taskArn.slice(task.taskArn.lastIndexOf('/') + 1);
      const stopped = task.lastStatus === 'STOPPED';
      const exitCode = stopped ? (task.exitCodes[name] ?? null) : null;
      out.push({
        id,
        app: name,
        schedule: task.group.slice(GROUP.length),
        command: task.command ?? [],
        status: !stopped ? 'running' : exitCode === 0 ? 'succeeded' : 'failed',
        exitCode,
        startedAt: task.startedAt ?? task.createdAt ?? new Date(0).toISOString(),
        ...(stopped && task.stoppedAt ? { endedAt: task.stoppedAt } : {}),
        ...(stopped && task.stoppedReason ? { reason: task.stoppedReason } : {}),
        ...(app?.logGroup ? { logGroup: app.logGroup, logStream: `${name}/${name}/${id}` } : {}),
      });
    }
  }
  return out;
}

/** `arn:…:task-definition/FAMILY:REVISION` → FAMILY. */
function familyOf(arn: unknown): string | undefined {
  if (typeof arn !== 'string') return undefined;
  const m = /:task-definition\/([^:]+):\d+$/.exec(arn);
  return m?.[1];
}
