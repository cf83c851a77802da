import type { Deps } from '../deps.js';
import { stageKey, type StageRef } from '../model/stage-model.js';
import { cachedEngines, type EngineFactory } from '../operations/plan-stages.js';
import { recordScheduledRuns } from '../operations/tasks.js';
import { taskFailedNotice } from '../providers/notify/notices.js';
import type { Notifier } from '../providers/notify/notifier.js';
import { secretsFor } from '../providers/registry.js';
import { stageDirRefs } from '../state/stage-dirs.js';
import { StateStore } from '../state/store.js';
import { readTaskRecords, tasksDir, writeTaskRecord, type TaskRecord } from '../state/task-records.js';

/** How far before the daemon's start a failed run still gets notified (see `ScheduledRunNotices`). */
export const NOTIFY_LOOKBACK_MS = 3_600_000;
/** Notices sent per stage and check at most; the rest go with the next check. */
const MAX_NOTICES_PER_STAGE = 10;
/** Overlap of consecutive checks' modification-time windows. */
const MTIME_SLACK_MS = 5_000;

export interface ScheduledRunNoticesOptions {
  deps: Deps;
  stateDir: string;
  notifier: Notifier;
  secretsFile?: string;
  /** Where relative secrets files are found (the config directory of the newest revision). */
  configRoot(): string;
  /** Whether this daemon owns the stage (`--shard`). */
  owns(key: string): boolean;
  engineFactory?: EngineFactory;
  /** Runs that ended before this time (ms) are never notified; default the start of the daemon less an hour. */
  since?: number;
}

/**
 * The daemon's notices of failed scheduled runs. Each check, for every stage this daemon owns:
 * AWS stages first record the runs ECS knows (`recordScheduledRuns`, as `task list` does, so a
 * run is recorded while ECS still remembers it even when nobody looks); then every task record
 * started by a schedule that failed (exit code, signal, could not start, or stopped at its
 * timeout) and has no `notifiedAt` gets one `task.failed` notice. `notifiedAt` is written
 * (atomically) *before* the notice is handed to the notifier: a daemon killed in between loses
 * that one notice rather than sending it twice after its restart. One-off runs (`task run`) are
 * notified by `runTask` and left alone here.
 *
 * Failed runs found on the first check that ended long before the daemon started are history,
 * not news: only runs that ended at most an hour before the daemon started (a failure while it
 * was being restarted or upgraded) or later are notified; older ones stay as they are in
 * `task list`.
 */
export class ScheduledRunNotices {
  private readonly engineOf;
  private readonly since: number;
  /** Per stage: records last written before this time (ms) were judged by an earlier check. */
  private readonly checkedUpTo = new Map<string, number>();

  constructor(private readonly o: ScheduledRunNoticesOptions) {
    this.engineOf = cachedEngines(o.stateDir, o.deps, o.engineFactory);
    this.since = o.since ?? o.deps.clock.now() - NOTIFY_LOOKBACK_MS;
  }

  /** One pass over the owned stages; returns how many notices it sent. Never throws except when `signal` aborted. */
  async check(signal: AbortSignal): Promise<number> {
    let sent = 0;
    for (const ref of await stageDirRefs(this.o.stateDir)) {
      if (signal.aborted) break;
      const key = stageKey(ref);
      if (!this.o.owns(key)) continue;
      try {
        sent += await this.checkStage(ref, signal);
      } catch (err) {
        if (signal.aborted) break;
        this.o.deps.log.warn({ stage: key, err: { message: (err as Error).message } }, `stage ${key}: scheduled runs not checked: ${(err as Error).message}`);
      }
    }
    this.o.deps.log.debug({ sent }, `scheduled runs checked: ${sent} failed run${sent === 1 ? '' : 's'} notified`);
    return sent;
  }

  private async checkStage(ref: StageRef, signal: AbortSignal): Promise<number> {
    const key = stageKey(ref);
    const model = (await new StateStore(this.o.stateDir).read(ref)).model;
    if (model === null) return 0;
    if (model.organization.provider !== 'local') {
      const seen = await recordScheduledRuns(this.o.deps, { stateDir: this.o.stateDir, ref, engineOf: this.engineOf }, signal);
      if (seen.error !== undefined) this.o.deps.log.warn({ stage: key }, `stage ${key}: the runs of scheduled tasks could not be read from the provider: ${seen.error}`);
    }
    // Records not written since the last check of this stage were judged then; a few seconds
    // of overlap cover a write in the same moment (notifiedAt keeps those from going twice).
    const checkStarted = this.o.deps.clock.now();
    const pending = (await readTaskRecords(tasksDir(this.o.stateDir, ref), { modifiedSince: this.checkedUpTo.get(key) ?? this.since - MTIME_SLACK_MS })).filter((r) => this.due(r)).reverse();
    const due = pending.slice(0, MAX_NOTICES_PER_STAGE);
    // Capped: what is left is looked at again next time.
    if (pending.length === due.length) this.checkedUpTo.set(key, checkStarted - MTIME_SLACK_MS);
    if (due.length === 0) return 0;
    const secrets = secretsFor(model.organization, { ...(this.o.secretsFile ? { secretsFile: this.o.secretsFile } : {}), configRoot: this.o.configRoot(), env: this.o.deps.env });
    let sent = 0;
    for (const record of due) {
      const now = this.o.deps.clock.now();
      await writeTaskRecord(tasksDir(this.o.stateDir, ref), { ...record, notifiedAt: new Date(now).toISOString() });
      const schedule = /^schedule (\S+)/.exec(record.startedBy)![1]!;
      this.o.notifier.notify(
        model,
        taskFailedNotice(
          ref,
          { app: record.app, task: record.id, schedule, exitCode: record.exitCode, signal: record.signal, ...(record.stopped ? { stopped: record.stopped } : {}), ...(record.reason ? { reason: record.reason } : {}), log: record.log || '(no log recorded)' },
          now,
        ),
        secrets,
      );
      this.o.deps.log.info({ stage: key, task: record.id, schedule }, `stage ${key}: scheduled task ${schedule} of app/${record.app} failed (run ${record.id}); notified`);
      sent++;
    }
    return sent;
  }

  /** A failed scheduled run not notified yet that ended within the window. */
  private due(r: TaskRecord): boolean {
    if (!r.startedBy.startsWith('schedule ') || r.status !== 'failed' || r.notifiedAt !== undefined || r.stopped === 'canceled') return false;
    const ended = Date.parse(r.endedAt ?? r.startedAt);
    return Number.isFinite(ended) && ended >= this.since;
  }
}
