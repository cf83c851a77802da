import type { NotificationModel, StageRef } from '../../model/stage-model.js';
import { stageKey } from '../../model/stage-model.js';

/** The stage events a notification target receives (`events:` in a Stage's notifications filters them). */
export type NoticeEvent =
  | 'deployment.succeeded'
  | 'deployment.failed'
  | 'approval.waiting'
  | 'drift.found'
  | 'stage.stalled'
  | 'backup.failed'
  | 'task.failed';

/**
 * One event of one stage as it is delivered: a short title, a few lines of text, and structured
 * fields. Built only from values that never hold a secret (masked changesets, error codes and
 * messages, plan ids); the notifier also redacts the stage's resolved secret values from it.
 */
export interface Notice {
  /** Unique per delivery attempt group (the receiver can de-duplicate retries with it). */
  id: string;
  event: NoticeEvent;
  /** `org/project/stage`. */
  stage: string;
  /** ISO time. */
  time: string;
  severity: 'info' | 'warning' | 'error';
  /** One line: `acme/shop/production: deployment #4 failed`. */
  title: string;
  /** A few lines for people (email body, Slack text). */
  text: string;
  /** Machine-readable facts: deployment number, commit, summary, error code, plan id, command to run. */
  data: Record<string, unknown>;
}

/** Whether a target wants this event (no `events` filter: every event). */
export function wants(target: NotificationModel, event: NoticeEvent): boolean {
  return target.events === undefined || target.events.includes(event);
}

/** The stage key of a ref, for notice fields. */
export function noticeStage(ref: StageRef): string {
  return stageKey(ref);
}
