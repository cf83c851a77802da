import { randomUUID } from 'node:crypto';
import type { Change } from '../../model/changeset.js';
import { stageKey, type StageRef } from '../../model/stage-model.js';
import type { Deployment } from '../../state/journal.js';
import type { Notice } from './notice.js';

/**
 * Builders of the notices setopsd sends, one per event. Each takes only secret-free values: the
 * journal's masked changeset, error codes and messages (which never hold a secret), plan ids.
 */

const MARK: Record<Change['op'], string> = { create: '+', update: '~', replace: '-/+', delete: '-' };
const MAX_CHANGE_LINES = 20;

function base(ref: StageRef, now: number): Pick<Notice, 'id' | 'stage' | 'time'> {
  return { id: randomUUID(), stage: stageKey(ref), time: new Date(now).toISOString() };
}

/** A finished deployment: what it changed, and on failure the error and where to look. */
export function deploymentNotice(ref: StageRef, d: Deployment, now: number): Notice {
  const key = stageKey(ref);
  const failed = d.status === 'failed';
  const s = d.summary;
  const lines = [
    `${key}: deployment #${d.number} (${d.kind}) ${failed ? 'failed' : 'succeeded'}; commit ${d.commit ?? '(working tree)'}, trigger ${d.trigger}.`,
    `${s.create ?? 0} to create, ${s.update ?? 0} to update, ${s.replace ?? 0} to replace, ${s.delete ?? 0} to delete.`,
    ...changeLines(d.changeset.changes),
  ];
  if (failed && d.error) {
    lines.push('', `Error ${d.error.code}: ${d.error.message}`);
    if (d.applied.length > 0) lines.push(`Done before it stopped: ${d.applied.join(', ')}`);
  }
  lines.push('', `Details: setopsd show ${key} ${d.number}   Log: ${d.log}`);
  return {
    ...base(ref, now),
    event: failed ? 'deployment.failed' : 'deployment.succeeded',
    severity: failed ? 'error' : 'info',
    title: `${key}: deployment #${d.number} ${failed ? 'failed' : 'succeeded'}`,
    text: lines.join('\n'),
    data: {
      deployment: d.number,
      kind: d.kind,
      status: d.status,
      commit: d.commit,
      ref: d.ref,
      trigger: d.trigger,
      summary: d.summary,
      changes: d.changeset.changes.map((c) => ({ op: c.op, subject: c.subject, ...(c.path ? { path: c.path } : {}), dataLoss: c.dataLoss })),
      applied: d.applied,
      ...(d.error ? { error: d.error } : {}),
      log: d.log,
    },
  };
}

/** A plan held until a person approves it. */
export function approvalNotice(ref: StageRef, p: { planId: string; changes: readonly Change[]; dataLoss: boolean; revision: string | null }, now: number): Notice {
  const key = stageKey(ref);
  const command = `setopsd approve ${key} --plan ${p.planId}`;
  return {
    ...base(ref, now),
    event: 'approval.waiting',
    severity: p.dataLoss ? 'warning' : 'info',
    title: `${key}: ${p.changes.length} change${p.changes.length === 1 ? '' : 's'} wait for approval${p.dataLoss ? ' (the plan loses data)' : ''}`,
    text: [`${key}: plan ${p.planId} of commit ${p.revision ?? '(working tree)'} waits for approval.`, ...changeLines(p.changes), '', `Approve: ${command}`].join('\n'),
    data: { planId: p.planId, revision: p.revision, dataLoss: p.dataLoss, command, changes: p.changes.map((c) => ({ op: c.op, subject: c.subject, ...(c.path ? { path: c.path } : {}), dataLoss: c.dataLoss })) },
  };
}

/** A stage that failed on the same desired state too often and waits for a new commit. */
export function stalledNotice(ref: StageRef, p: { failures: number; code: string; message: string }, now: number): Notice {
  const key = stageKey(ref);
  return {
    ...base(ref, now),
    event: 'stage.stalled',
    severity: 'error',
    title: `${key}: stalled after ${p.failures} failed deployments`,
    text: `${key} failed ${p.failures} times on the same desired state and is not retried until a new commit (or \`setopsd retry ${key}\`).\nLast error ${p.code}: ${p.message}`,
    data: { failures: p.failures, error: { code: p.code, message: p.message }, command: `setopsd retry ${key}` },
  };
}

/** Drift: what runs is not what was applied. */
export function driftNotice(ref: StageRef, p: { findings: readonly string[] }, now: number): Notice {
  const key = stageKey(ref);
  return {
    ...base(ref, now),
    event: 'drift.found',
    severity: 'warning',
    title: `${key}: drift found (${p.findings.length})`,
    text: [`${key} differs from what was applied:`, ...p.findings.map((f) => `  ${f}`)].join('\n'),
    data: { findings: p.findings },
  };
}

/** A backup that did not complete. */
export function backupFailedNotice(ref: StageRef, p: { service: string; id: string; code: string; message: string; log?: string }, now: number): Notice {
  const key = stageKey(ref);
  return {
    ...base(ref, now),
    event: 'backup.failed',
    severity: 'error',
    title: `${key}: backup of service ${p.service} failed`,
    text: `${key}: backup ${p.id} of service ${p.service} failed.\nError ${p.code}: ${p.message}${p.log ? `\nLog: ${p.log}` : ''}\nRetry: setopsd backup create ${key} ${p.service}`,
    data: { service: p.service, backup: p.id, error: { code: p.code, message: p.message }, ...(p.log ? { log: p.log } : {}) },
  };
}

/**
 * A one-off or scheduled task that exited non-zero or was stopped at its timeout. `schedule`
 * names the schedule of a scheduled run; `reason` is the provider's word on why it stopped.
 */
export function taskFailedNotice(
  ref: StageRef,
  p: { app: string; task: string; exitCode: number | null; signal?: string | null; stopped?: 'timeout' | 'canceled'; reason?: string; schedule?: string; log: string },
  now: number,
): Notice {
  const key = stageKey(ref);
  const code = p.exitCode !== null ? `exit code ${p.exitCode}` : `signal ${p.signal ?? 'unknown'}`;
  const how = p.stopped === 'timeout' ? `timed out, ${code}` : code;
  const what = p.schedule !== undefined ? `scheduled task ${p.schedule} (run ${p.task})` : `task ${p.task}`;
  return {
    ...base(ref, now),
    event: 'task.failed',
    severity: 'error',
    title: `${key}: ${what} of app ${p.app} failed (${how})`,
    text: `${key}: ${what} of app ${p.app} ended with ${how}.${p.reason ? `\nReason: ${p.reason}` : ''}\nLog: ${p.log}`,
    data: {
      app: p.app,
      task: p.task,
      ...(p.schedule !== undefined ? { schedule: p.schedule } : {}),
      exitCode: p.exitCode,
      signal: p.signal ?? null,
      ...(p.stopped ? { stopped: p.stopped } : {}),
      ...(p.reason ? { reason: p.reason } : {}),
      log: p.log,
    },
  };
}

function changeLines(changes: readonly Change[]): string[] {
  const lines = changes.slice(0, MAX_CHANGE_LINES).map((c) => `  ${MARK[c.op]} ${c.subject}${c.path ? ' ' + c.path : ''}${c.dataLoss ? ' [data loss]' : ''}`);
  if (changes.length > MAX_CHANGE_LINES) lines.push(`  … and ${changes.length - MAX_CHANGE_LINES} more`);
  return lines;
}
