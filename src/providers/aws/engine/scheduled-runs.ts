/**
 * Runs of scheduled tasks on AWS (`setopsd task list`): EventBridge Scheduler starts them as ECS
 * tasks of the app's task definition in group `schedule:NAME` (see `program/schedules.ts`), so
 * ECS's own record is the truth about each run — its command, start, stop and exit code. ECS
 * keeps a stopped task for about an hour: `task list` records what it sees, and runs that ended
 * unseen longer ago are not known (their output stays in CloudWatch Logs). A schedule with
 * `timeout` runs through a Step Functions state machine that starts the same task in the same
 * group; a run it stopped at the timeout is `failed`, `stopped: 'timeout'` (`scheduled-run-outcome.ts`).
 */
import { stageKey, type StageRef } from '../../../model/stage-model.js';
import type { ScheduledRun } from '../../engine.js';
import type { EcsTaskSummary, TaskRunner } from './ecs-tasks.js';
import { scheduledRunOutcome } from './scheduled-run-outcome.js';
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
    const tasks: EcsTaskSummary[] = await runner.recent({ subject: `app/${name} in ${stageKey(ref)}`, cluster: outputs.cluster, family }, o.signal);
    for (const task of tasks) {
      if (!task.group?.startsWith(GROUP)) continue;
      const id = task.taskArn.slice(task.taskArn.lastIndexOf('/') + 1);
      const schedule = task.group.slice(GROUP.length);
      const outcome = scheduledRunOutcome(task, name, model.apps[name]!.schedules?.[schedule]?.timeout);
      out.push({
        id,
        app: name,
        schedule,
        command: task.command ?? [],
        ...outcome,
        startedAt: task.startedAt ?? task.createdAt ?? new Date(0).toISOString(),
        ...(outcome.status !== 'running' && task.stoppedAt ? { endedAt: task.stoppedAt } : {}),
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
