import type { HealthCheckModel, LinkModel, ServiceType, StageRef } from '../../model/stage-model.js';

/**
 * Messages between the engine (inside `setopsd apply`) and the stage supervisor, over the
 * supervisor's control API on 127.0.0.1. Everything is resolved on the engine side except
 * service credentials, which only the supervisor knows and injects into link variables.
 */

/** One app as the supervisor runs it. */
export interface AppSpec {
  name: string;
  /** argv of each process: exec form, or `/bin/sh -c …` for shell form (entrypoint prepended). */
  argv: string[];
  /** Absolute working directory. */
  cwd: string;
  /** The app's env with secrets resolved. Never logged. */
  env: Record<string, string>;
  links: Record<string, LinkModel>;
  protocol: 'http' | 'tcp';
  public: boolean;
  scale: number;
  /** Host names the router sends to this app (lower case); empty for private apps. */
  hosts: string[];
  healthCheck: HealthCheckModel;
  /** argv of the pre-deploy command, run once before new processes take traffic. */
  preDeploy?: string[];
}

/** One service as the supervisor runs it. */
export interface ServiceSpec {
  name: string;
  type: ServiceType;
  version?: string;
}

/** What the supervisor persists and restores after a restart. */
export interface DesiredRuntime {
  formatVersion: 1;
  apps: Record<string, AppSpec>;
  services: Record<string, ServiceSpec>;
}

/** `local/supervisor.json`. */
export interface SupervisorInfo {
  pid: number;
  controlPort: number;
  token: string;
  routerPort: number;
  stage: StageRef;
  startedAt: string;
}

/** One process the supervisor started, recorded in `local/pids.json`. */
export interface PidRecord {
  pid: number;
  /** `app/NAME/INDEX`, `app/NAME/new` (a deployment in progress), `redis/NAME`. */
  role: string;
  /** App processes: their port and the hash of what they run (`processKey`), to adopt them after a supervisor restart. */
  port?: number;
  spec?: string;
  /** Start time of the process (/proc/PID/stat), so a reused pid is never taken for it. */
  start?: number;
}

/** One process of an app in a status report. */
export interface ProcessReport {
  index: number;
  pid: number;
  port: number;
  healthy: boolean;
  serving: boolean;
  restarts: number;
  startedAt: string;
  generation: number;
}

/** What the supervisor runs now (the `status` and `sync` calls of `control-routes.ts`). */
export interface StatusReport {
  pid: number;
  routerPort: number;
  apps: Record<string, { hosts: string[]; public: boolean; processes: ProcessReport[] }>;
  services: Record<string, { type: ServiceType; status: 'running' | 'stopped' | 'unknown'; detail?: string }>;
}

/** What a deployment of one app did (the `putApp` call). */
export type DeployOutcome = 'unchanged' | 'rerouted' | 'scaled' | 'replaced';

/** Answer to `putApp`: what the deployment did and the app's processes now. */
export interface DeployReply {
  outcome: DeployOutcome;
  processes: ProcessReport[];
}

/** Wire form of an error returned by the control API. */
export interface WireError {
  message: string;
  code: string;
  name: string;
  data: Record<string, unknown>;
  /** Informational (the receiver derives it from the code); kept for readers of the wire format. */
  retryable: boolean;
}

/** Answer to `putApps`: per app, what its deployment did, or why it failed (the old version keeps serving). */
export interface DeployAllReply {
  results: Record<string, DeployReply | { error: WireError }>;
}

/** Answer to `ping`: who answers, and which control protocol it speaks. */
export interface PingReply {
  pid: number;
  stage: StageRef;
  protocol: number;
}

/** Answer of the calls that only report success. */
export interface OkReply {
  ok: true;
}

/**
 * Version of the control API. A running supervisor that speaks another one (started by another
 * setopsd version) is replaced; the new one adopts its processes.
 */
export const CONTROL_PROTOCOL = 2;

/** The env marker every process started by a supervisor carries, to recognise orphans. */
export const OWNER_ENV = 'SETOPSD_LOCAL_OWNER';
/** The env var naming a process's role (`app/web/0`, `redis/cache`), for logs and orphan handling. */
export const ROLE_ENV = 'SETOPSD_LOCAL_ROLE';
