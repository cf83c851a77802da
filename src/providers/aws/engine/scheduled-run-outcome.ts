import type { ScheduledRun } from '../../engine.js';
import type { EcsTaskSummary } from './ecs-tasks.js';

/**
 * How much earlier than its timeout a stopped run may have been stopped and still count as
 * stopped by it: Step Functions starts the state's timer when it enters the state, a moment
 * before ECS creates the task, so the task's own record is a little shorter than the timeout.
 */
export const TIMEOUT_LEAD_MS = 10_000;

/** What a scheduled run's ECS record says about how it ended. */
export type ScheduledRunOutcome = Pick<ScheduledRun, 'status' | 'exitCode' | 'stopped' | 'reason'>;

/**
 * The outcome of one scheduled run from ECS's record of its task (PURE). `container` is the app's
 * container; `timeoutS` the schedule's `timeout` (absent: the run has no time limit on AWS).
 *
 * A schedule with `timeout` runs through a Step Functions state machine that stops the task with
 * StopTask when the state times out (`program/timed-schedules.ts`). ECS records that as stop code
 * `UserInitiated` with the caller's stoppedReason, the same as any other StopTask, so what tells a
 * timeout apart is the time: a run stopped that way no sooner than its timeout (less
 * `TIMEOUT_LEAD_MS`) after ECS created it was stopped by the timeout — nothing else stops it that
 * late, as the state machine never lets it run longer. Such a run is `failed`, whatever the exit
 * code the stopped process gave, with a reason that says so and keeps ECS's own. Any other run
 * keeps ECS's reason verbatim and is `succeeded` only with exit code 0.
 */
export function scheduledRunOutcome(task: EcsTaskSummary, container: string, timeoutS: number | undefined): ScheduledRunOutcome {
  if (task.lastStatus !== 'STOPPED') return { status: 'running', exitCode: null };
  const exitCode = task.exitCodes[container] ?? null;
  const from = Date.parse(task.createdAt ?? task.startedAt ?? '');
  const to = Date.parse(task.stoppingAt ?? task.stoppedAt ?? '');
  const timedOut = timeoutS !== undefined && task.stopCode === 'UserInitiated' && to - from >= timeoutS * 1000 - TIMEOUT_LEAD_MS;
  if (timedOut) {
    return { status: 'failed', exitCode, stopped: 'timeout', reason: `stopped after its timeout of ${timeoutS} s${task.stoppedReason ? ` (ECS: ${task.stoppedReason})` : ''}` };
  }
  return { status: exitCode === 0 ? 'succeeded' : 'failed', exitCode, ...(task.stoppedReason ? { reason: task.stoppedReason } : {}) };
}
