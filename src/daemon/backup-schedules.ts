import { dirname } from 'node:path';
import { Cron } from 'croner';
import type { Deps } from '../deps.js';
import { stageKey, type StageRef } from '../model/stage-model.js';
import { createBackup } from '../operations/backups.js';
import type { Notifier } from '../providers/notify/notifier.js';
import { stageDirRefs } from '../state/stage-dirs.js';
import { StateStore } from '../state/store.js';

/** The service types an AWS stage takes snapshots of (RDS, DocumentDB, ElastiCache). */
const AWS_SNAPSHOT_TYPES = new Set(['postgresql', 'documentdb', 'redis']);

export interface ScheduledBackupsOptions {
  deps: Deps;
  stateDir: string;
  notifier: Notifier;
  secretsFile?: string;
  /** Whether this daemon owns the stage (`--shard`). */
  owns(key: string): boolean;
  /** Each scheduled backup's outcome (metrics). */
  onResult?(stage: string, service: string, result: 'completed' | 'failed'): void;
}

/**
 * The daemon's scheduled backups: one croner job (UTC) per deployed service with a
 * `backup.schedule` (local engine: its own backups; AWS: manual RDS, DocumentDB and ElastiCache
 * snapshots, the same `createBackup` as `setopsd backup create`; services the engine cannot back
 * up, such as s3 on AWS, get no job), rebuilt from the recorded models after every deployment. A due backup
 * while the previous one of the same service still runs is skipped (and logged). A failed one is
 * recorded as failed, logged, counted and notified by `createBackup`; it never stops the daemon.
 */
export class ScheduledBackups {
  private readonly jobs = new Map<string, { schedule: string; cron: Cron }>();

  constructor(private readonly o: ScheduledBackupsOptions) {}

  /** Re-reads the recorded models and starts, changes or stops jobs to match. */
  async refresh(): Promise<void> {
    const wanted = new Map<string, { ref: StageRef; service: string; schedule: string }>();
    for (const ref of await stageDirRefs(this.o.stateDir)) {
      if (!this.o.owns(stageKey(ref))) continue;
      const model = (await new StateStore(this.o.stateDir).read(ref).catch(() => ({ model: null }))).model;
      if (model === null) continue;
      for (const [service, s] of Object.entries(model.services)) {
        if (model.organization.provider !== 'local' && !AWS_SNAPSHOT_TYPES.has(s.type)) continue;
        if (s.backup.schedule !== undefined && s.backup.retentionDays > 0) wanted.set(`${stageKey(ref)} ${service}`, { ref, service, schedule: s.backup.schedule });
      }
    }
    for (const [key, job] of this.jobs) {
      if (wanted.get(key)?.schedule === job.schedule) continue;
      job.cron.stop();
      this.jobs.delete(key);
    }
    for (const [key, w] of wanted) {
      if (this.jobs.has(key)) continue;
      const cron = new Cron(w.schedule, { timezone: 'UTC', protect: () => this.o.deps.log.warn({ stage: stageKey(w.ref), service: w.service }, `scheduled backup of service/${w.service} in ${stageKey(w.ref)}: skipped, the previous one still runs`) }, () => this.run(w.ref, w.service));
      this.jobs.set(key, { schedule: w.schedule, cron });
    }
  }

  /** When each scheduled backup runs next, by `org/project/stage service`. */
  next(): Record<string, string | null> {
    return Object.fromEntries([...this.jobs].map(([k, j]) => [k, j.cron.nextRun()?.toISOString() ?? null]));
  }

  /** Takes one scheduled backup now (the job's body; also for tests). */
  async run(ref: StageRef, service: string): Promise<void> {
    const key = stageKey(ref);
    try {
      const { backup, pruned } = await createBackup(
        this.o.deps,
        { stateDir: this.o.stateDir, ref, service, configRoot: dirname(this.o.stateDir), trigger: 'schedule', notifier: this.o.notifier, ...(this.o.secretsFile ? { secretsFile: this.o.secretsFile } : {}) },
        new AbortController().signal,
      );
      this.o.deps.log.info({ stage: key, service, backup: backup.id, size: backup.size, pruned }, `scheduled backup of service/${service} in ${key}: ${backup.id} completed`);
      this.o.onResult?.(key, service, 'completed');
    } catch {
      // createBackup recorded, logged and notified the failure.
      this.o.onResult?.(key, service, 'failed');
    }
  }

  stop(): void {
    for (const job of this.jobs.values()) job.cron.stop();
    this.jobs.clear();
  }
}
