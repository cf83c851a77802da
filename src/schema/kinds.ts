import type { FromSchema } from './from-schema.js';
import { SERVICE_NAME_MESSAGE, SERVICE_NAME_PATTERN } from './name-rules.js';

/**
 * The JSON Schemas of the five manifest kinds: the single source of truth for what a manifest
 * may hold and for its defaults (ajv fills them in). Types below are derived from these
 * definitions (`from-schema.ts`). `errorMessage` / `patternErrorMessage` are the editor
 * extensions VS Code and yaml-language-server show; setopsd uses them for its own messages too.
 */

/** The only `apiVersion` setopsd reads. */
export const API_VERSION = 'setopsd/v1';

/** Manifest kinds in the order they are documented and counted. */
export const KINDS = ['Organization', 'Project', 'Stage', 'App', 'Service', 'Policy'] as const;
export type Kind = (typeof KINDS)[number];

const NAME_PATTERN = '^[a-z][a-z0-9-]*$';
const NAME_MESSAGE = 'must be lowercase letters, digits and "-", starting with a letter (e.g. "web-api")';

function nameSchema<Min extends number, Max extends number>(what: string, minLength: Min, maxLength: Max, pattern = NAME_PATTERN, message = NAME_MESSAGE) {
  return {
    type: 'string',
    description: `${what} name: lowercase letters, digits and "-", starting with a letter, ${minLength}–${maxLength} characters.`,
    pattern,
    patternErrorMessage: message,
    minLength,
    maxLength,
  } as const;
}

/** Name rules per kind (SetOps limits). */
export const NAME_LIMITS = {
  Organization: [2, 32],
  Project: [3, 20],
  Stage: [3, 12],
  App: [3, 16],
  Service: [3, 18],
  Policy: [2, 40],
} as const satisfies Record<Kind, readonly [number, number]>;

const organizationName = nameSchema('Organization', ...NAME_LIMITS.Organization);
const projectName = nameSchema('Project', ...NAME_LIMITS.Project);
const stageName = nameSchema('Stage', ...NAME_LIMITS.Stage);
const appName = nameSchema('App', ...NAME_LIMITS.App);
const serviceName = nameSchema('Service', ...NAME_LIMITS.Service, SERVICE_NAME_PATTERN, SERVICE_NAME_MESSAGE);

/** Reserved app env keys: set by the platform. */
export const RESERVED_ENV_KEYS = ['APP_ENV_ID', 'PORT', 'PORTS', 'PROTOCOL'] as const;

const envKey = {
  type: 'string',
  pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
  patternErrorMessage: 'must be letters, digits and "_", not starting with a digit',
} as const;

const secretRef = {
  type: 'object',
  description: 'A secret resolved at apply time from the engine\'s secret store; its value never appears in manifests, plans or logs.',
  properties: {
    secret: {
      type: 'string',
      description: 'Name of the secret.',
      pattern: '^[A-Za-z_][A-Za-z0-9_./-]*$',
      patternErrorMessage: 'must be letters, digits, "_", ".", "/" and "-", starting with a letter or "_"',
      maxLength: 128,
    },
  },
  required: ['secret'],
  additionalProperties: false,
} as const;

const commandSchema = (what: string) =>
  ({
    description: `${what}: a string (shell form, run with /bin/sh -c) or a list of strings (exec form), kept as written.`,
    anyOf: [
      { type: 'string', minLength: 1 },
      { type: 'array', items: { type: 'string' }, minItems: 1 },
    ],
    errorMessage: 'must be a string (shell form) or a non-empty list of strings (exec form)',
  }) as const;

const hostname = {
  type: 'string',
  description: 'A DNS name such as shop.example.com.',
  pattern: '^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$',
  patternErrorMessage: 'must be a lowercase DNS name such as shop.example.com',
} as const;

const hostnameOrIp = {
  type: 'string',
  pattern: '^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^[0-9a-fA-F:.]+$',
  patternErrorMessage: 'must be a host name such as smtp.example.com or an IP address',
} as const;

/** Stage events a notification can receive (default: every one). */
export const NOTIFICATION_EVENTS = [
  'deployment.succeeded',
  'deployment.failed',
  'approval.waiting',
  'drift.found',
  'stage.stalled',
  'backup.failed',
  'task.failed',
] as const;

const notificationEvents = {
  type: 'array',
  minItems: 1,
  uniqueItems: true,
  description: `Events delivered to this target (default: all): ${NOTIFICATION_EVENTS.join(', ')}.`,
  items: { enum: NOTIFICATION_EVENTS },
} as const;

const stageOverrides = (what: string) =>
  ({
    type: 'object',
    description: `Per-stage overrides: stage name → RFC 7396 JSON merge patch applied to this ${what}'s spec on that stage (null removes a field). The merged spec is validated like the base spec.`,
    propertyNames: stageName,
    additionalProperties: { type: 'object', errorMessage: 'must be a mapping (a JSON merge patch of the spec for that stage)' },
  }) as const;

const metadataBase = {
  organization: { ...organizationName, description: 'The organization. May be left out when exactly one organization exists.' },
  project: { ...projectName, description: 'The project this belongs to.' },
} as const;

const envelope = <const K extends Kind, const M, const S>(kind: K, description: string, metadata: M, spec: S, specRequired: boolean) =>
  ({
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: `https://setopsd.dev/schema/v1/${kind.toLowerCase()}.json`,
    title: `setopsd ${kind}`,
    description,
    type: 'object',
    properties: {
      apiVersion: { const: API_VERSION, description: `Always "${API_VERSION}".` },
      kind: { const: kind },
      metadata,
      spec,
    },
    required: specRequired ? ['apiVersion', 'kind', 'metadata', 'spec'] : ['apiVersion', 'kind', 'metadata'],
    additionalProperties: false,
  }) as const;

const globList = (what: string) =>
  ({
    type: 'array',
    description: what,
    items: { type: 'string', minLength: 1 },
  }) as const;

/**
 * Which files of the repository are manifests (also the keys of `.setopsd.yaml`); globs are
 * picomatch globs relative to the config directory, checked by `src/manifests/select.ts`.
 */
export const manifestSelection = {
  type: 'object',
  description:
    'Which files of the config directory are manifests: picomatch globs relative to it (e.g. "deploy/**/*.yaml"). .github/, .gitlab-ci.yml, node_modules/ and dot-directories are never read.',
  properties: {
    include: globList('Only files matching one of these globs are read (default: every *.yaml and *.yml file).'),
    exclude: globList('Files matching one of these globs are not read, in addition to the defaults.'),
  },
  additionalProperties: false,
} as const;

/** Organization: the tenant; chooses the engine. */
export const organizationSchema = envelope(
  'Organization',
  'An organization: the top-level tenant. It chooses the engine that runs its stages (local or aws) and where secrets come from.',
  {
    type: 'object',
    properties: { name: organizationName },
    required: ['name'],
    additionalProperties: false,
  },
  {
    type: 'object',
    default: {},
    properties: {
      provider: {
        enum: ['local', 'aws'],
        default: 'local',
        description: 'Engine: "local" runs stages on this machine (default); "aws" runs them on AWS through Pulumi.',
      },
      aws: {
        type: 'object',
        description: 'AWS settings (required when provider is aws).',
        properties: {
          region: {
            type: 'string',
            pattern: '^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$',
            patternErrorMessage: 'must be an AWS region such as eu-central-1',
          },
          accountId: {
            type: 'string',
            pattern: '^[0-9]{12}$',
            patternErrorMessage: 'must be the 12-digit AWS account id, quoted so YAML keeps it a string',
          },
          vpcId: { type: 'string', pattern: '^vpc-[0-9a-f]+$', patternErrorMessage: 'must be a VPC id such as vpc-0abc123' },
        },
        required: ['region'],
        additionalProperties: false,
      },
      backend: {
        type: 'string',
        description: 'Pulumi backend URL (file://…, s3://…, https://api.pulumi.com). Default: a file backend in the state directory.',
        pattern: '^(file|s3|gs|azblob|https?)://',
        patternErrorMessage: 'must be a Pulumi backend URL: file://…, s3://…, gs://…, azblob://… or https://…',
      },
      secrets: {
        type: 'object',
        description: 'Where {secret: NAME} values come from on the local engine: a secrets file outside the repository and/or the process environment.',
        properties: {
          file: { type: 'string', minLength: 1, description: 'Secrets file (YAML or dotenv NAME=value), mode 0600.' },
          env: {
            type: 'object',
            description: 'Read secret NAME from the environment variable PREFIX + NAME.',
            properties: { prefix: { type: 'string', default: 'SETOPSD_SECRET_', pattern: '^[A-Za-z0-9_]*$' } },
            additionalProperties: false,
          },
        },
        additionalProperties: false,
      },
      smtp: {
        type: 'object',
        description: 'The SMTP server that delivers the e-mail notifications of this organization\'s stages.',
        properties: {
          host: { ...hostnameOrIp, description: 'SMTP server host name or IP address.' },
          port: { type: 'integer', minimum: 1, maximum: 65535, description: 'Port. Default 465 with secure, else 587.' },
          secure: { type: 'boolean', description: 'TLS from the first byte (port 465). Otherwise STARTTLS is used when the server offers it.' },
          from: { type: 'string', format: 'email', description: 'Sender address of notifications.' },
          user: { type: 'string', minLength: 1, description: 'User name for SMTP AUTH.' },
          password: { ...secretRef, description: 'Password for SMTP AUTH, by secret reference: { secret: NAME }.' },
        },
        required: ['host', 'from'],
        additionalProperties: false,
      },
      manifests: manifestSelection,
    },
    additionalProperties: false,
    if: { properties: { provider: { const: 'aws' } }, required: ['provider'] },
    then: { required: ['aws'] },
  },
  false,
);

/** Project: a namespace for stages. */
export const projectSchema = envelope(
  'Project',
  'A project: a namespace for stages.',
  {
    type: 'object',
    properties: { name: projectName, organization: metadataBase.organization },
    required: ['name'],
    additionalProperties: false,
  },
  {
    type: 'object',
    default: {},
    properties: { description: { type: 'string', maxLength: 500 } },
    additionalProperties: false,
  },
  false,
);

const notificationName = {
  type: 'string',
  pattern: NAME_PATTERN,
  patternErrorMessage: NAME_MESSAGE,
  maxLength: 40,
  description: 'Name of the notification. Default: email-<local part> or webhook-<host>, made unique with -2, -3… in list order.',
} as const;

/** Stage: an isolated deployment environment. */
export const stageSchema = envelope(
  'Stage',
  'A stage: an isolated deployment environment of a project.',
  {
    type: 'object',
    properties: { name: stageName, organization: metadataBase.organization, project: metadataBase.project },
    required: ['name', 'project'],
    additionalProperties: false,
  },
  {
    type: 'object',
    default: {},
    properties: {
      after: { ...stageName, description: 'The stage of the same project a commit must have succeeded on before it reaches this one.' },
      approval: { enum: ['auto', 'manual'], default: 'auto', description: 'manual: wait for `setopsd approve` before applying.' },
      protected: { type: 'boolean', default: false, description: 'Protected stages cannot be destroyed; their services default to deletion protection.' },
      notifications: {
        type: 'array',
        default: [],
        description: 'Targets for stage events (deployments, approvals, drift, stalls, failed backups and tasks; on AWS also alarms): { email } (sent through the Organization\'s smtp) or { webhook } (signed JSON POST), each with an optional name and events filter.',
        items: {
          anyOf: [
            {
              type: 'object',
              properties: { email: { type: 'string', format: 'email' }, name: notificationName, events: notificationEvents },
              required: ['email'],
              additionalProperties: false,
            },
            {
              type: 'object',
              properties: {
                webhook: { type: 'string', pattern: '^https?://[^\\s/$.?#][^\\s]*$', patternErrorMessage: 'must be an http(s) URL' },
                name: notificationName,
                events: notificationEvents,
                format: { enum: ['json', 'slack'], description: 'Body: setopsd JSON (default) or a Slack-compatible { text, blocks } message.' },
                secret: { ...secretRef, description: 'Signing key by secret reference: each POST carries X-Setopsd-Signature-256: sha256=HMAC-SHA256(key, body).' },
                timeout: { type: 'integer', minimum: 1, maximum: 60, description: 'Seconds to wait for an answer per attempt (default 10).' },
              },
              required: ['webhook'],
              additionalProperties: false,
            },
          ],
          errorMessage: 'must be { email: ADDRESS } or { webhook: URL }, with an optional name',
        },
      },
      exclude: {
        type: 'array',
        default: [],
        description: 'Apps and services of the project that are not deployed on this stage.',
        items: { type: 'string', pattern: NAME_PATTERN, patternErrorMessage: NAME_MESSAGE },
        uniqueItems: true,
      },
    },
    additionalProperties: false,
  },
  false,
);

const appSpecProperties = {
  image: { type: 'string', minLength: 1, description: 'Container image (AWS). The local engine runs command in workdir instead.' },
  command: commandSchema('Command'),
  entrypoint: commandSchema('Entrypoint'),
  workdir: {
    type: 'string',
    minLength: 1,
    description: 'Local engine: working directory of the app, relative to the directory holding the manifests.',
  },
  port: { type: 'integer', minimum: 1, maximum: 65535, default: 5000, description: 'Port the app listens on ($PORT).' },
  protocol: { enum: ['http', 'tcp'], default: 'http', description: 'Cannot change in place: changing it replaces the app.' },
  public: { type: 'boolean', default: false, description: 'Reachable from outside the stage.' },
  scale: { type: 'integer', minimum: 0, maximum: 16, default: 1, description: 'Number of instances, 0–16 (0 stops the app).' },
  resources: {
    type: 'object',
    description: 'CPU and memory of one instance.',
    default: {},
    properties: {
      cpu: { type: 'integer', minimum: 128, maximum: 16384, multipleOf: 128, default: 256, description: 'CPU units, multiples of 128 (1024 = one vCPU).' },
      memory: { type: 'integer', minimum: 128, maximum: 122880, default: 512, description: 'Memory hard limit in MiB.' },
    },
    additionalProperties: false,
  },
  healthCheck: {
    type: 'object',
    description: 'A new version takes traffic only once its health checks pass.',
    default: {},
    properties: {
      path: { type: 'string', pattern: '^/', patternErrorMessage: 'must start with "/"', default: '/', description: 'HTTP path of the network health check.' },
      status: {
        type: 'string',
        default: '200-499',
        pattern: '^[1-5][0-9]{2}(-[1-5][0-9]{2})?(,[1-5][0-9]{2}(-[1-5][0-9]{2})?)*$',
        patternErrorMessage: 'must be HTTP status codes or ranges such as 200-399 or 200,204',
        description: 'Healthy HTTP status codes (SetOps default 200-499).',
      },
      interval: { type: 'integer', minimum: 5, maximum: 300, default: 10, description: 'Seconds between checks.' },
      timeout: { type: 'integer', minimum: 2, maximum: 120, default: 10, description: 'Seconds before a check fails.' },
      retries: { type: 'integer', minimum: 1, maximum: 10, default: 5, description: 'Failed checks before unhealthy.' },
      startPeriod: { type: 'integer', minimum: 0, maximum: 300, default: 15, description: 'Seconds of grace after start.' },
      command: commandSchema('Container health check command'),
    },
    additionalProperties: false,
  },
  env: {
    type: 'object',
    default: {},
    description: `Environment variables: a string (numbers and booleans are turned into strings) or { secret: NAME }. Reserved: ${RESERVED_ENV_KEYS.join(', ')}.`,
    propertyNames: { ...envKey, not: { enum: RESERVED_ENV_KEYS } },
    additionalProperties: {
      anyOf: [
        // A process environment cannot hold a NUL byte: refuse it here, not when the app starts.
        { type: 'string', pattern: '^[^\\u0000]*$', patternErrorMessage: 'must not contain a NUL byte (\\0): a process environment cannot hold one' },
        { type: 'number' },
        { type: 'boolean' },
        secretRef,
      ],
      errorMessage: 'must be a string or { secret: NAME }',
    },
  },
  domains: {
    type: 'array',
    default: [],
    description: 'Custom domains: names or { name, primary }. One is primary (default: the first); the others redirect to it.',
    items: {
      anyOf: [
        hostname,
        {
          type: 'object',
          properties: { name: hostname, primary: { type: 'boolean', description: 'The primary domain; the others redirect to it. Default: the first domain.' } },
          required: ['name'],
          additionalProperties: false,
        },
      ],
      errorMessage: 'must be a domain name or { name, primary }',
    },
  },
  links: {
    type: 'array',
    default: [],
    description: 'Services this app uses; each injects connection settings as env vars.',
    items: {
      type: 'object',
      properties: {
        service: { ...serviceName, description: 'Name of a service of the same project.' },
        envKey: { ...envKey, description: 'Env var holding the connection URL (default per type: DATABASE_URL, REDIS_URL, …).' },
        path: { type: 'string', pattern: '^/', patternErrorMessage: 'must be an absolute path', description: 'Volumes: mount path in the app.' },
        readOnly: { type: 'boolean', description: 'Volumes: mount read-only.' },
      },
      required: ['service'],
      additionalProperties: false,
    },
  },
  schedules: {
    type: 'array',
    default: [],
    description: 'Scheduled tasks: the command runs in the app\'s environment on a cron schedule (local engine: the stage supervisor, a run is skipped while the previous one still runs; AWS: EventBridge Scheduler starting the app\'s task definition, through a Step Functions state machine that stops it after `timeout` when one is set).',
    items: {
      type: 'object',
      properties: {
        name: { type: 'string', pattern: NAME_PATTERN, patternErrorMessage: NAME_MESSAGE, maxLength: 40, description: 'Name of the schedule, unique in the app.' },
        cron: { type: 'string', format: 'cron', description: 'Five fields: minute hour day-of-month month day-of-week, e.g. "*/15 * * * *" or "0 3 * * 1-5".' },
        command: commandSchema('Command of the scheduled task'),
        timezone: { type: 'string', format: 'timezone', description: 'IANA time zone of the cron fields, e.g. Europe/Berlin. Default UTC.' },
        timeout: { type: 'integer', minimum: 1, maximum: 86400, description: 'Seconds a run may take before it is stopped (local engine: default 3600; AWS: a Step Functions state machine stops it, and without timeout a run has no time limit there).' },
      },
      required: ['name', 'cron', 'command'],
      additionalProperties: false,
    },
  },
  preDeploy: {
    type: 'object',
    description: 'A one-off task run with the new version before it takes traffic (migrations).',
    properties: { command: commandSchema('Pre-deploy command') },
    required: ['command'],
    additionalProperties: false,
  },
} as const;

/** The App spec without `stages` (what a merged per-stage spec must satisfy). */
export const appSpecSchema = {
  type: 'object',
  default: {},
  properties: { ...appSpecProperties, stages: stageOverrides('app') },
  additionalProperties: false,
} as const;

/** App: a long-running stateless container task. */
export const appSchema = envelope(
  'App',
  'An app: a long-running stateless task (container on AWS, process on the local engine). Without metadata.stage it exists in every stage of its project.',
  {
    type: 'object',
    properties: {
      name: appName,
      organization: metadataBase.organization,
      project: metadataBase.project,
      stage: { ...stageName, description: 'Only in this stage. Absent: in every stage of the project.' },
    },
    required: ['name', 'project'],
    additionalProperties: false,
  },
  appSpecSchema,
  false,
);

/** Service types and the versions each accepts (major, optionally .minor). */
export const SERVICE_VERSIONS = {
  postgresql: ['13', '14', '15', '16', '17'],
  redis: ['6', '7'],
  s3: [],
  volume: [],
  documentdb: ['4'],
  elasticsearch: ['7'],
} as const;

/** Defaults filled in by resolution, per service type (documented in the schema descriptions). */
export const SERVICE_DEFAULTS = {
  postgresql: { version: '16', plan: 'db.t4g.micro', retentionDays: 7, options: { extensions: [], minStorage: 20 } },
  redis: { version: '7', plan: 'cache.t4g.micro', retentionDays: 1, options: {} },
  s3: { retentionDays: 7, options: { blockPublicAccess: true } },
  volume: { retentionDays: 7, options: {} },
  documentdb: { version: '4', plan: 'db.t3.medium', retentionDays: 7, options: { scale: 1 } },
  elasticsearch: { version: '7', plan: 't3.small.search', retentionDays: 7, options: { storage: 10 } },
} as const;

/**
 * The versions of one service type. YAML reads `version: 16` as a number and setopsd accepts it
 * (as "16"), so the schema does too — editors then agree with `setopsd validate`: a string
 * matches the pattern, a number lies within the supported majors (16.1 as 16.1).
 */
const versionOf = (type: keyof typeof SERVICE_VERSIONS) => {
  const majors = SERVICE_VERSIONS[type].map(Number);
  const numbers = majors.length > 0 ? { minimum: Math.min(...majors), exclusiveMaximum: Math.max(...majors) + 1 } : { not: {} };
  return {
    if: { properties: { type: { const: type } }, required: ['type'] },
    then: {
      properties: {
        version: {
          anyOf: [
            {
              type: 'string',
              pattern: `^(${SERVICE_VERSIONS[type].join('|')})(\\.[0-9]+)*$`,
              patternErrorMessage: `must be a supported ${type} version (${SERVICE_VERSIONS[type].join(', ')})`,
            },
            { type: 'number', ...numbers },
          ],
        },
      },
    },
  };
};

const optionsOf = <const P>(type: keyof typeof SERVICE_VERSIONS, properties: P) => ({
  if: { properties: { type: { const: type } }, required: ['type'] },
  then: { properties: { options: { type: 'object', properties, additionalProperties: false } } },
});

const serviceSpecProperties = {
  type: {
    enum: ['postgresql', 'redis', 's3', 'volume', 'documentdb', 'elasticsearch'],
    description: 'Cannot change in place: changing it replaces the service and loses its data.',
  },
  version: {
    type: ['string', 'number'],
    description: 'Engine version: postgresql 13–17 (default 16), redis 6–7 (default 7), documentdb 4, elasticsearch 7. Not for s3 and volume.',
  },
  plan: {
    type: 'string',
    minLength: 1,
    description: 'Instance class, .ha suffix for multi-AZ. Defaults: postgresql db.t4g.micro, redis cache.t4g.micro, documentdb db.t3.medium, elasticsearch t3.small.search.',
  },
  options: {
    type: 'object',
    description:
      'Type-specific options. postgresql: extensions (default []), minStorage GB (≥ 20, default 20), maxStorage GB. s3: blockPublicAccess (default true). documentdb: scale (replicas, default 1). elasticsearch: storage GB (default 10).',
  },
  backup: {
    type: 'object',
    description: 'Automatic backups.',
    default: {},
    properties: {
      retentionDays: {
        type: 'integer',
        minimum: 0,
        maximum: 35,
        description: 'Days backups are kept (0 disables). Default 7; redis 1.',
      },
      schedule: {
        type: 'string',
        format: 'cron',
        description: 'When the daemon takes a backup (setopsd backup create), as five cron fields in UTC, e.g. "0 3 * * *". Default: none (AWS services keep their automatic backups).',
      },
    },
    additionalProperties: false,
  },
  deletionProtection: { type: 'boolean', description: 'Refuse to delete the service. Default: the stage\'s `protected`.' },
  finalSnapshot: {
    type: 'boolean',
    description: 'Keep a final snapshot when the service is deleted (postgresql, redis, documentdb on AWS). Default true; false deletes without one.',
  },
} as const;

/** The Service spec (what a merged per-stage spec must satisfy). */
export const serviceSpecSchema = {
  type: 'object',
  properties: { ...serviceSpecProperties, stages: stageOverrides('service') },
  required: ['type'],
  additionalProperties: false,
  allOf: [
    versionOf('postgresql'),
    versionOf('redis'),
    versionOf('documentdb'),
    versionOf('elasticsearch'),
    {
      if: { properties: { type: { enum: ['s3', 'volume'] } }, required: ['type'] },
      then: { not: { required: ['version'] }, errorMessage: 's3 and volume services have no version; remove it' },
    },
    optionsOf('postgresql', {
      extensions: { type: 'array', items: { type: 'string', pattern: '^[a-z_][a-z0-9_]*$' }, uniqueItems: true },
      minStorage: { type: 'integer', minimum: 20, maximum: 65536 },
      maxStorage: { type: 'integer', minimum: 20, maximum: 65536 },
    }),
    optionsOf('redis', {}),
    optionsOf('s3', { blockPublicAccess: { type: 'boolean' } }),
    optionsOf('volume', {}),
    optionsOf('documentdb', { scale: { type: 'integer', minimum: 1, maximum: 16 } }),
    optionsOf('elasticsearch', { storage: { type: 'integer', minimum: 10, maximum: 16384 } }),
  ],
} as const;

/** Service: a stateful component. */
export const serviceSchema = envelope(
  'Service',
  'A service: a stateful component (database, cache, bucket, volume). Without metadata.stage it exists in every stage of its project.',
  {
    type: 'object',
    properties: {
      name: serviceName,
      organization: metadataBase.organization,
      project: metadataBase.project,
      stage: { ...stageName, description: 'Only in this stage. Absent: in every stage of the project.' },
    },
    required: ['name', 'project'],
    additionalProperties: false,
  },
  serviceSpecSchema,
  true,
);

/** A picomatch glob over one part of a stage key (`production`, `prod-*`, `{staging,production}`). */
const scopeGlobs = (what: string) =>
  ({
    type: 'array',
    description: `Globs (picomatch) of the ${what} the rule applies to. Default: every one.`,
    items: { type: 'string', minLength: 1 },
    minItems: 1,
    default: ['*'],
  }) as const;

/** Policy: rules over stage models, as data (JSON Schema; no code runs). */
export const policySchema = envelope(
  'Policy',
  'A policy: rules every stage in their scope must satisfy, each a JSON Schema over the resolved stage model (organization, project, stage, apps, services; every default filled in). plan lists violations; apply and the daemon refuse stages with deny violations.',
  {
    type: 'object',
    properties: { name: nameSchema('Policy', ...NAME_LIMITS.Policy) },
    required: ['name'],
    additionalProperties: false,
  },
  {
    type: 'object',
    properties: {
      rules: {
        type: 'array',
        minItems: 1,
        description: 'The rules of this policy.',
        items: {
          type: 'object',
          properties: {
            name: { ...nameSchema('Rule', 2, 60), description: 'Name of the rule, unique in its policy.' },
            severity: { enum: ['deny', 'warn'], description: 'deny: apply and the daemon refuse the stage; warn: plan shows the violation.' },
            message: { type: 'string', minLength: 1, maxLength: 500, description: 'What the reader is told when a stage violates the rule; say what to do.' },
            scope: {
              type: 'object',
              default: {},
              description: 'The stages the rule applies to; every part defaults to all.',
              properties: { organizations: scopeGlobs('organizations'), projects: scopeGlobs('projects'), stages: scopeGlobs('stages') },
              additionalProperties: false,
            },
            rule: {
              type: ['object', 'boolean'],
              description: 'A JSON Schema (draft-07) the stage model must satisfy, e.g. { properties: { apps: { additionalProperties: { properties: { scale: { minimum: 2 } } } } } }.',
            },
          },
          required: ['name', 'severity', 'message', 'rule'],
          additionalProperties: false,
        },
      },
    },
    required: ['rules'],
    additionalProperties: false,
  },
  true,
);

/** The schema of each kind. */
export const KIND_SCHEMAS = {
  Organization: organizationSchema,
  Project: projectSchema,
  Stage: stageSchema,
  App: appSchema,
  Service: serviceSchema,
  Policy: policySchema,
} as const;

/** Documents as validated, defaults filled in. */
export type OrganizationDoc = FromSchema<typeof organizationSchema, true>;
export type ProjectDoc = FromSchema<typeof projectSchema, true>;
export type StageDoc = FromSchema<typeof stageSchema, true>;
export type AppDoc = FromSchema<typeof appSchema, true>;
export type ServiceDoc = FromSchema<typeof serviceSchema, true>;
export type PolicyDoc = FromSchema<typeof policySchema, true>;
export type AppSpec = FromSchema<typeof appSpecSchema, true>;
export type ServiceSpec = FromSchema<typeof serviceSpecSchema, true>;
/** Any validated document. */
export type ManifestDoc = OrganizationDoc | ProjectDoc | StageDoc | AppDoc | ServiceDoc | PolicyDoc;
