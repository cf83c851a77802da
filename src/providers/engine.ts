import type { Logger } from 'pino';
import type { EngineName, ServiceModel, StageModel, StageRef } from '../model/stage-model.js';
import type { PlannedRestoreBackups } from './backups.js';
import type { ActualState } from '../model/actual-state.js';
import type { Change, Changeset } from '../model/changeset.js';
import type { SetopsError } from '../errors.js';

/** A resource-level line from an engine preview (Pulumi), appended to a stage's changeset. */
export interface ResourcePlan {
  changes: Change[];
}

/** Progress of an apply, one event per change or resource step. Past tense for outcomes. */
export interface ProgressEvent {
  subject: string;
  status: 'started' | 'succeeded' | 'failed' | 'skipped';
  message?: string;
}

/** Looks up `{secret: NAME}` values at apply time. Throws an EngineError naming the secret when missing. */
export interface SecretResolver {
  get(name: string): Promise<string>;
}

/** Everything an apply needs besides the models. */
export interface ApplyIO {
  signal: AbortSignal;
  log: Logger;
  progress(event: ProgressEvent): void;
  /** The plan allowed data loss (`--allow-data-loss`): services may be dropped with their data. */
  allowDataLoss: boolean;
  secrets: SecretResolver;
  /** Absolute path of the config repository's working tree (local engine: app `workdir`s are relative to it). */
  configRoot: string;
  /** The journal entry this apply belongs to. */
  deployment: { number: number; commit: string | null; trigger: string };
  /** Apps to restart with new processes (or a new ECS deployment) even where nothing changed (`setopsd redeploy`). */
  restart?: readonly string[];
  /**
   * Re-read the real world before applying (`apply --refresh`; Pulumi: `up --refresh`, like the
   * Pulumi Kubernetes operator's `spec.refresh`). Engines without a refresh ignore it.
   */
  refresh?: boolean;
}

/** Outcome of an apply or destroy. On failure, `applied` lists what was done before it stopped. */
export interface ApplyResult {
  status: 'succeeded' | 'failed';
  applied: Change[];
  /** The state recorded after the run (after a failure: what is really there now). */
  actual: ActualState;
  error?: SetopsError;
  /** Engine-specific summary (e.g. Pulumi resource counts). */
  summary?: Record<string, number>;
}

/**
 * An engine runs stages: the embedded local engine (`provider: local`) or Pulumi on AWS
 * (`provider: aws`). Only `src/reconciler/apply.ts` and the CLI call engines.
 */
export interface Engine {
  readonly name: EngineName;
  /** The recorded StageModel of a stage and its serial. */
  read(stage: StageRef, signal?: AbortSignal): Promise<ActualState>;
  /** Resource-level preview of applying `desired` (Pulumi only). */
  preview?(desired: StageModel, actual: ActualState, signal?: AbortSignal): Promise<ResourcePlan>;
  /** Converge the stage to `desired`, following `changes` (already ordered and checked). */
  apply(desired: StageModel, changes: Changeset, io: ApplyIO): Promise<ApplyResult>;
  /** Remove everything of the stage. */
  destroy(stage: StageRef, io: ApplyIO): Promise<ApplyResult>;
  /** Re-read the real world and report drift (Pulumi `refresh`). */
  refresh?(stage: StageRef, signal?: AbortSignal): Promise<ActualState>;
  /** What runs now (local engine: processes, ports, health, router URL). */
  status?(stage: StageRef, signal?: AbortSignal): Promise<StageStatus | null>;
  /** Writes an app's recent log lines, and with `follow` new ones until the signal aborts. */
  logs?(stage: StageRef, app: string, opts: LogsOptions): Promise<void>;
  /** Runs a one-off command in an app's environment as deployed now (Pulumi: ECS RunTask). */
  runTask?(stage: StageRef, task: OneOffTask, signal: AbortSignal): Promise<OneOffTaskResult>;
  /** Runs of the stage's scheduled tasks the provider knows now (Pulumi: ECS tasks of group `schedule:NAME`). */
  scheduledRuns?(stage: StageRef, signal: AbortSignal): Promise<ScheduledRun[]>;
  /** The provider's backups of one deployed service (Pulumi: RDS, DocumentDB, ElastiCache snapshots). */
  backups?(stage: StageRef, service: string, model: ServiceModel, signal: AbortSignal): Promise<PlannedRestoreBackups>;
}

/** A one-off command of an app (`setopsd task run`). */
export interface OneOffTask {
  app: string;
  argv: string[];
  env: Record<string, string>;
  /** Where its output goes while it runs (AWS: its CloudWatch Logs stream, read as it grows). */
  write?(chunk: string): void;
}

/** How a one-off task ended; `exitCode` null: it never ran its command. */
export interface OneOffTaskResult {
  exitCode: number | null;
  reason: string;
  /** Where its output is (AWS: `LOG GROUP` / `LOG STREAM` in CloudWatch Logs). */
  logGroup?: string;
  logStream?: string;
  taskArn?: string;
  /** Whether its output was written through `OneOffTask.write` (else only where it is, above). */
  streamed?: boolean;
}

/** One run of a scheduled task started by the provider (AWS: EventBridge Scheduler). */
export interface ScheduledRun {
  /** The provider's id of the run (ECS task id). */
  id: string;
  app: string;
  schedule: string;
  command: string[];
  status: 'running' | 'succeeded' | 'failed';
  exitCode: number | null;
  /** ISO times. */
  startedAt: string;
  endedAt?: string;
  /** Why it stopped (ECS stoppedReason, or that it was stopped after its timeout), when it did. */
  reason?: string;
  /** `timeout`: stopped because it ran for the schedule's `timeout` (then `failed`). */
  stopped?: 'timeout';
  logGroup?: string;
  logStream?: string;
}

/** Runtime view of a stage for `setopsd status`. */
export interface StageStatus {
  /** Where the stage's public apps answer (local engine router). */
  router?: { url: string; port: number };
  /**
   * Apps by name. `note`: what the engine knows about the app besides processes (Pulumi: the
   * task definition its ECS service runs, a rollback).
   */
  apps: Record<string, { processes: ProcessStatus[]; url?: string; note?: string }>;
  services: Record<string, { type: string; status: 'running' | 'stopped' | 'unknown'; detail?: string }>;
  /**
   * Set when the view is not live (Pulumi: the stack outputs of the last update): says where it
   * comes from; apps are then shown with their scale, not a process health count.
   */
  source?: string;
  /** Stage-level facts worth a line each (load balancer DNS name, cluster). */
  notes?: string[];
}

export interface ProcessStatus {
  pid: number;
  port: number;
  healthy: boolean;
  restarts: number;
  /** ISO time. */
  startedAt: string;
}

/** What of an app's logs to write: the last `lines` lines (of those written at `since` or later), then with `follow` new ones. */
export interface LogsOptions {
  /** How many of the most recent lines (`Infinity`: every line since `since`). */
  lines: number;
  /** Only lines written at this time or later (ms since the epoch). */
  since?: number;
  follow: boolean;
  signal: AbortSignal;
  write(chunk: string): void;
}

/** What every engine factory receives. */
export interface EngineContext {
  stateDir: string;
  deps: import('../deps.js').Deps;
  organization: import('../model/stage-model.js').OrganizationModel;
}
