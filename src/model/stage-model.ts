/**
 * The resolved model: one `StageModel` per stage, with every default filled in, the stage's
 * overrides merged, excludes applied and links resolved. It is plain JSON (no undefined, no
 * class instances); optional fields that are absent are omitted, never `undefined` or `null`
 * unless the type says so. Two models are equal exactly when their canonical JSON is equal
 * (see `canonical.ts`).
 */

/** Which engine runs the organization's stages. */
export type Provider = 'local' | 'aws';

/** The engine that runs a provider's stages: `local` for `local`, `pulumi` for `aws`. */
export type EngineName = 'local' | 'pulumi';

/** Identifies one stage. Rendered as `organization/project/stage`. */
export interface StageRef {
  organization: string;
  project: string;
  stage: string;
}

/** An env value: plain text or a reference to a secret resolved at apply time. */
export type EnvValue = string | SecretRef;

/** `{ secret: NAME }`: the value comes from the engine's secret store, never from the manifests. */
export interface SecretRef {
  secret: string;
}

/** Where `{secret: NAME}` values come from (local engine; AWS uses SSM / Secrets Manager). */
export interface SecretsSettings {
  /** A secrets file outside the repository (YAML or dotenv `NAME=value`), mode 0600. */
  file?: string;
  /** Read secrets from the process environment, optionally with this name prefix. */
  env?: { prefix: string };
}

export interface OrganizationModel {
  name: string;
  provider: Provider;
  /** Present when provider is `aws`. */
  aws?: { region: string; accountId?: string; vpcId?: string };
  /** Pulumi backend URL (`file://…`, `s3://…`, `https://api.pulumi.com`). Absent: file backend in the state dir. */
  backend?: string;
  secrets?: SecretsSettings;
  /** SMTP server for e-mail notifications. */
  smtp?: SmtpModel;
}

export interface ProjectModel {
  name: string;
  description?: string;
}

export interface NotificationModel {
  type: 'email' | 'webhook';
  /** E-mail address or https URL. */
  target: string;
  /** Events delivered to this target (`deployment.succeeded`, …); absent: every event. */
  events?: string[];
  /** Webhooks: the body, setopsd JSON (default) or a Slack-compatible message. */
  format?: 'json' | 'slack';
  /** Webhooks: the HMAC-SHA256 signing key, by reference. */
  secret?: SecretRef;
  /** Webhooks: seconds to wait for an answer per attempt (default 10). */
  timeout?: number;
}

/** The SMTP server that sends a stage's e-mail notifications. */
export interface SmtpModel {
  host: string;
  port?: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS when offered. */
  secure?: boolean;
  from: string;
  user?: string;
  password?: SecretRef;
}

export interface StageSettings {
  name: string;
  /** The stage a commit must have succeeded on before it reaches this one. */
  after?: string;
  approval: 'auto' | 'manual';
  protected: boolean;
  /** Notifications by name. */
  notifications: Record<string, NotificationModel>;
}

export interface HealthCheckModel {
  /** HTTP path for http apps (network health check). */
  path: string;
  /** Healthy HTTP status range, SetOps default `200-499`. */
  status: string;
  /** Seconds. */
  interval: number;
  timeout: number;
  retries: number;
  startPeriod: number;
  /** Container health check command (exec form or shell string). */
  command?: string | string[];
}

export interface DomainModel {
  primary: boolean;
}

/** An app → service binding. Which env vars it injects depends on the service type. */
export interface LinkModel {
  /** The main env var holding the connection URL; absent: the type's default (DATABASE_URL, REDIS_URL, …). */
  envKey?: string;
  /** Volumes: mount path in the app, and whether it is read-only. */
  path?: string;
  readOnly?: boolean;
}

export interface AppModel {
  image?: string;
  /** Exec form (array) or shell form (string), as written in the manifest. */
  command?: string | string[];
  entrypoint?: string | string[];
  /** Local engine: working directory relative to the config repository. */
  workdir?: string;
  port: number;
  protocol: 'http' | 'tcp';
  public: boolean;
  /** 0–16; 0 stops the app. */
  scale: number;
  resources: { cpu: number; memory: number };
  healthCheck: HealthCheckModel;
  env: Record<string, EnvValue>;
  /** Custom domains by name. */
  domains: Record<string, DomainModel>;
  /** Links by service name. */
  links: Record<string, LinkModel>;
  preDeploy?: { command: string | string[] };
  /** Scheduled tasks by name; absent when the app has none. */
  schedules?: Record<string, ScheduleModel>;
}

/** A command run in the app's environment on a cron schedule. */
export interface ScheduleModel {
  /** Five fields, single-spaced: minute hour day-of-month month day-of-week. */
  cron: string;
  command: string | string[];
  /** IANA time zone of the cron fields; absent: UTC. */
  timezone?: string;
  /** Seconds a run may take (absent: `DEFAULT_SCHEDULE_TIMEOUT_S` on the local engine; no limit on AWS). */
  timeout?: number;
}

/** Seconds the local engine lets a scheduled run take when its schedule sets no `timeout`. */
export const DEFAULT_SCHEDULE_TIMEOUT_S = 3600;

export type ServiceType = 'postgresql' | 'redis' | 's3' | 'volume' | 'documentdb' | 'elasticsearch';

export interface ServiceModel {
  type: ServiceType;
  version?: string;
  /** Instance class / size, e.g. `db.t3.micro`; `.ha` suffix for multi-AZ. */
  plan?: string;
  /** Type-specific options (postgresql `extensions`, `minStorage`, `maxStorage`; s3 `blockPublicAccess`; …). */
  options: Record<string, unknown>;
  /** `schedule`: five cron fields (UTC) when the daemon takes backups; absent: none scheduled. */
  backup: { retentionDays: number; schedule?: string };
  deletionProtection: boolean;
  /**
   * `false`: delete the database without a final snapshot. Absent (the default): engines keep a
   * final snapshot of every stateful service they delete.
   */
  finalSnapshot?: boolean;
}

/** The desired (or recorded) state of one stage. */
export interface StageModel {
  organization: OrganizationModel;
  project: ProjectModel;
  stage: StageSettings;
  apps: Record<string, AppModel>;
  services: Record<string, ServiceModel>;
}

/** The stage's address as `org/project/stage`. */
export function stageKey(ref: StageRef): string {
  return `${ref.organization}/${ref.project}/${ref.stage}`;
}

/** The StageRef of a model. */
export function refOf(model: StageModel): StageRef {
  return { organization: model.organization.name, project: model.project.name, stage: model.stage.name };
}

export function isSecretRef(v: unknown): v is SecretRef {
  return typeof v === 'object' && v !== null && typeof (v as SecretRef).secret === 'string' && Object.keys(v).length === 1;
}

/** Stateful service types: replacing or deleting them loses data. */
export const STATEFUL_SERVICE_TYPES: readonly ServiceType[] = [
  'postgresql', 'redis', 's3', 'volume', 'documentdb', 'elasticsearch',
];
