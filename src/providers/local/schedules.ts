import { spawn } from 'node:child_process';
import { openSync, closeSync, appendFileSync, existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Cron } from 'croner';
import { randomBytes } from 'node:crypto';
import { writeFileAtomic } from '../../state/atomic.js';
import { pruneTaskRecords, readTaskRecords, taskRecordId, tasksDirIn, writeTaskRecord, type TaskRecord } from '../../state/task-records.js';
import type { LocalDeps } from './local-deps.js';
import type { LocalPaths } from './paths.js';
import { signalGroup, waitGone } from './proc.js';
import { ROLE_ENV } from './protocol.js';

/** One scheduled task of an app as the supervisor runs it. */
export interface ScheduleSpec {
  name: string;
  /** croner pattern (manifests allow five fields). */
  cron: string;
  timezone?: string;
  /** A run is stopped after this long. */
  timeoutMs: number;
  argv: string[];
}

/** `local/schedules.json`: the schedules of every app, so a restarted supervisor runs them again. */
interface SchedulesFile {
  formatVersion: 1;
  apps: Record<string, ScheduleSpec[]>;
}

/** The log file of one schedule: every run's output between `run started` / `run ended` lines. */
export function scheduleLogFile(paths: LocalPaths, app: string, name: string): string {
  return join(paths.logsDir, `${app}.schedule.${name}.log`);
}

export interface AppSchedulesOptions {
  paths: LocalPaths;
  /** The env and working directory of a process of the app now (null: the app is not deployed). */
  processOf(app: string): { env: Record<string, string>; cwd: string } | null;
  log(line: string): void;
  deps: LocalDeps;
  /** SIGTERM → SIGKILL grace of a run that timed out or is stopped. */
  stopGraceMs?: number;
}

interface Job {
  spec: ScheduleSpec;
  cron: Cron;
  /** Pid of the run in progress. */
  running?: number;
  /** Why the supervisor killed the run in progress (its record says canceled, not failed). */
  killed?: string;
}

/**
 * The scheduled tasks of a stage's apps inside its supervisor: one croner job per schedule. A
 * run is the schedule's command in the app's environment (no PORT), its own process group,
 * marked as the stage's with the role `schedule/APP/NAME`, its output appended to
 * `logs/APP.schedule.NAME.log`. A run that is due while the previous one still runs is skipped
 * (croner's `protect`) and the skip is logged; a run past its timeout is stopped. Each run is
 * also a task record (`tasks/<id>.json`, started by `schedule NAME`) when it starts and when it
 * ends, so `task list` shows it and the daemon can notify its failure.
 */
export class AppSchedules {
  private readonly jobs = new Map<string, Job[]>();
  private specs: Record<string, ScheduleSpec[]> = {};
  private file: string;

  constructor(private readonly o: AppSchedulesOptions) {
    this.file = join(o.paths.localDir, 'schedules.json');
  }

  /** Starts the schedules recorded by an earlier supervisor (and closes the records of its runs it did not see end). */
  async restore(): Promise<void> {
    await this.closeLeftovers().catch(() => {});
    try {
      const f = JSON.parse(await readFile(this.file, 'utf8')) as SchedulesFile;
      for (const [app, specs] of Object.entries(f.apps)) this.start(app, specs);
      this.specs = f.apps;
    } catch {
      // none recorded
    }
  }

  /**
   * Replaces an app's schedules (empty: none) and records them. Every apply sends them: a schedule
   * that did not change keeps its job (and its run in progress); a changed or removed one stops
   * its job, its run in progress finishing on its own — unless the app itself is going (empty
   * list), then its runs are stopped too.
   */
  async put(app: string, specs: ScheduleSpec[]): Promise<void> {
    const same = (a: ScheduleSpec, b: ScheduleSpec) => JSON.stringify(a) === JSON.stringify(b);
    const kept: Job[] = [];
    for (const job of this.jobs.get(app) ?? []) {
      if (specs.some((s) => same(s, job.spec))) kept.push(job);
      else {
        job.cron.stop();
        if (specs.length === 0 && job.running !== undefined) this.kill(job, 'its app was removed');
      }
    }
    this.jobs.delete(app);
    const fresh = specs.filter((s) => !kept.some((j) => same(j.spec, s)));
    if (specs.length > 0) {
      this.start(app, fresh);
      this.jobs.set(app, [...kept, ...(this.jobs.get(app) ?? [])].sort((a, b) => (a.spec.name < b.spec.name ? -1 : 1)));
      this.specs[app] = specs;
    } else delete this.specs[app];
    await mkdir(this.o.paths.localDir, { recursive: true });
    await writeFileAtomic(this.file, JSON.stringify({ formatVersion: 1, apps: this.specs } satisfies SchedulesFile, null, 2) + '\n', 0o600);
  }

  /**
   * Runs an earlier supervisor started and did not see end (it was killed, or exited before their
   * close): their processes are gone (a new supervisor stops leftovers), their outcome unknown.
   * Recorded as canceled, so they are not `running` forever and not notified as failures.
   */
  private async closeLeftovers(): Promise<void> {
    const dir = tasksDirIn(this.o.paths.stageDir);
    for (const r of await readTaskRecords(dir)) {
      if (r.status !== 'running' || !/^schedule \S+$/.test(r.startedBy)) continue;
      const now = this.o.deps.clock.now();
      await writeTaskRecord(dir, { ...r, status: 'failed', stopped: 'canceled', reason: 'the stage supervisor stopped during the run', endedAt: new Date(now).toISOString(), durationMs: now - Date.parse(r.startedAt) });
    }
  }

  /** Next run of each schedule, for status. */
  report(): Record<string, { name: string; cron: string; next: string | null; running: boolean }[]> {
    const out: Record<string, { name: string; cron: string; next: string | null; running: boolean }[]> = {};
    for (const [app, jobs] of this.jobs) out[app] = jobs.map((j) => ({ name: j.spec.name, cron: j.spec.cron, next: j.cron.nextRun()?.toISOString() ?? null, running: j.running !== undefined }));
    return out;
  }

  /** Stops every job and every run in progress (supervisor shutdown). */
  stopAll(): void {
    for (const app of [...this.jobs.keys()]) this.stop(app);
  }

  private start(app: string, specs: ScheduleSpec[]): void {
    const jobs: Job[] = [];
    for (const spec of specs) {
      const job: Job = { spec, cron: undefined as unknown as Cron };
      job.cron = new Cron(
        spec.cron,
        {
          name: `${app}/${spec.name}`,
          ...(spec.timezone ? { timezone: spec.timezone } : {}),
          protect: () => this.note(app, spec, `skipped: the previous run (pid ${job.running ?? '?'}) still runs`),
          catch: (err) => this.note(app, spec, `run failed: ${(err as Error).message}`),
        },
        () => this.runOnce(app, job),
      );
      jobs.push(job);
    }
    this.jobs.set(app, jobs);
  }

  private stop(app: string): void {
    for (const job of this.jobs.get(app) ?? []) {
      job.cron.stop();
      if (job.running !== undefined) this.kill(job, 'the stage supervisor stopped');
    }
    this.jobs.delete(app);
  }

  private kill(job: Job, why: string): void {
    job.killed = why;
    signalGroup(job.running!, 'SIGKILL');
  }

  /** A line in the schedule's log and the supervisor's. */
  private note(app: string, spec: ScheduleSpec, text: string): void {
    const line = `${new Date(this.o.deps.clock.now()).toISOString()} [setopsd] ${text}\n`;
    try {
      appendFileSync(scheduleLogFile(this.o.paths, app, spec.name), line);
    } catch {
      // the logs directory is gone (stage destroyed)
    }
    this.o.log(`schedule ${spec.name} of app/${app}: ${text}`);
  }

  /** One run; resolves when it ended (croner's protect holds the next one until then). */
  private async runOnce(app: string, job: Job): Promise<void> {
    const { spec } = job;
    const proc = this.o.processOf(app);
    if (proc === null) {
      this.note(app, spec, 'skipped: the app is not deployed');
      return;
    }
    const started = this.o.deps.clock.now();
    this.note(app, spec, `run started: ${spec.argv.join(' ')}`);
    // The command is the manifest's (secrets are references there, resolved only in the env), so
    // the argv holds no secret value and is recorded as it is.
    let record: TaskRecord = {
      formatVersion: 1,
      id: taskRecordId(started, randomBytes(3).toString('hex')),
      app,
      command: spec.argv,
      envKeys: [],
      startedBy: `schedule ${spec.name}`,
      status: 'running',
      exitCode: null,
      signal: null,
      startedAt: new Date(started).toISOString(),
      log: scheduleLogFile(this.o.paths, app, spec.name),
    };
    await this.record(app, spec, record);
    const fd = openSync(scheduleLogFile(this.o.paths, app, spec.name), 'a');
    let timedOut = false;
    const ended = await new Promise<{ code: number | null; signal: string | null; error?: string }>((resolve) => {
      let child;
      try {
        child = spawn(spec.argv[0]!, spec.argv.slice(1), { cwd: proc.cwd, env: { ...proc.env, [ROLE_ENV]: `schedule/${app}/${spec.name}` }, detached: true, stdio: ['ignore', fd, fd] });
      } catch (err) {
        resolve({ code: null, signal: null, error: (err as Error).message });
        return;
      }
      job.running = child.pid;
      const timer = setTimeout(() => {
        if (child.pid === undefined) return;
        timedOut = true;
        signalGroup(child.pid, 'SIGTERM');
        void waitGone(child.pid, this.o.stopGraceMs ?? 10_000, this.o.deps).then((gone) => gone || signalGroup(child.pid!, 'SIGKILL'));
      }, spec.timeoutMs);
      timer.unref();
      child.on('error', (err) => {
        clearTimeout(timer);
        resolve({ code: null, signal: null, error: (err as NodeJS.ErrnoException).code ?? err.message });
      });
      child.on('close', (code, sig) => {
        clearTimeout(timer);
        if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL'); // what the command left behind in its group
        resolve({ code, signal: sig });
      });
    });
    closeSync(fd);
    job.running = undefined;
    const killed = job.killed;
    job.killed = undefined;
    const secs = ((this.o.deps.clock.now() - started) / 1000).toFixed(1);
    const how = ended.error ? `could not start: ${ended.error}` : ended.code !== null ? `exit code ${ended.code}` : `signal ${ended.signal}`;
    this.note(app, spec, `run ended${timedOut ? ' (timed out)' : ''}: ${how} after ${secs}s`);
    const endedAt = this.o.deps.clock.now();
    record = {
      ...record,
      status: ended.code === 0 && !timedOut ? 'succeeded' : 'failed',
      exitCode: ended.code,
      signal: ended.signal,
      ...(timedOut ? { stopped: 'timeout' as const, reason: `stopped after its timeout of ${spec.timeoutMs / 1000} s` } : {}),
      // Not the command's failure: the daemon does not notify canceled runs.
      ...(killed !== undefined && !timedOut ? { stopped: 'canceled' as const, reason: `stopped: ${killed}` } : {}),
      ...(ended.error ? { reason: `could not start: ${ended.error}` } : {}),
      endedAt: new Date(endedAt).toISOString(),
      durationMs: endedAt - started,
    };
    await this.record(app, spec, record);
    await pruneTaskRecords(tasksDirIn(this.o.paths.stageDir)).catch(() => 0);
  }

  /** Writes a run's task record; a failed write is noted, never thrown (the run itself goes on). */
  private async record(app: string, spec: ScheduleSpec, record: TaskRecord): Promise<void> {
    // A destroyed stage is not brought back by the record of a run that outlived it.
    if (!existsSync(this.o.paths.stageDir)) return;
    try {
      await writeTaskRecord(tasksDirIn(this.o.paths.stageDir), record);
    } catch (err) {
      this.note(app, spec, `task record ${record.id} not written: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
}
