import type { AppModel, OrganizationModel, ProjectModel, ServiceModel, ServiceType, StageModel, StageSettings } from '../../src/model/stage-model.js';

/**
 * Resolved models for tests, with exactly the defaults resolution fills in for fields a manifest
 * leaves out (src/schema/kinds.ts; test/helpers/models.test.ts checks them against the loader),
 * so a test names only what it is about. `over` replaces whole top-level fields; a field given
 * as `undefined` is left out (a model never holds undefined). Every call returns a fresh deep copy.
 *
 * ```ts
 * stage({ apps: { web: app({ public: true, scale: 2 }) }, services: { db: service('postgresql') } });
 * stage({ name: 'production', organization: { provider: 'aws', aws: { region: 'eu-central-1' } }, protected: true });
 * ```
 */

/** An app as `spec: {}` resolves: port 5000, http, private, scale 1, 256 CPU / 512 MiB, the default health check. */
export function app(over: Partial<AppModel> = {}): AppModel {
  return clone<AppModel>({
    port: 5000,
    protocol: 'http',
    public: false,
    scale: 1,
    resources: { cpu: 256, memory: 512 },
    healthCheck: { path: '/', status: '200-499', interval: 10, timeout: 10, retries: 5, startPeriod: 15 },
    env: {},
    domains: {},
    links: {},
    ...over,
  });
}

/** Per type: what `spec: { type }` resolves to on a stage that is not protected. */
const SERVICE_DEFAULTS: Record<ServiceType, Omit<ServiceModel, 'type' | 'deletionProtection'>> = {
  postgresql: { version: '16', plan: 'db.t4g.micro', options: { extensions: [], minStorage: 20 }, backup: { retentionDays: 7 } },
  redis: { version: '7', plan: 'cache.t4g.micro', options: {}, backup: { retentionDays: 1 } },
  s3: { options: { blockPublicAccess: true }, backup: { retentionDays: 7 } },
  volume: { options: {}, backup: { retentionDays: 7 } },
  documentdb: { version: '4', plan: 'db.t3.medium', options: { scale: 1 }, backup: { retentionDays: 7 } },
  elasticsearch: { version: '7', plan: 't3.small.search', options: { storage: 10 }, backup: { retentionDays: 7 } },
};

/** A service of `type` with its type's defaults and no deletion protection (the stage is not protected). */
export function service(type: ServiceType, over: Partial<Omit<ServiceModel, 'type'>> = {}): ServiceModel {
  return clone<ServiceModel>({ type, ...SERVICE_DEFAULTS[type], deletionProtection: false, ...over });
}

export interface StageOptions {
  /** The stage's name (default `staging`). */
  name?: string;
  /** Laid over `{ name: 'acme', provider: 'local' }`. */
  organization?: Partial<OrganizationModel>;
  /** Laid over `{ name: 'shop' }`. */
  project?: Partial<ProjectModel>;
  /** Stage settings; defaults: approval `auto`, not protected, no notifications, no `after`. */
  approval?: StageSettings['approval'];
  protected?: boolean;
  after?: string;
  notifications?: StageSettings['notifications'];
  apps?: StageModel['apps'];
  services?: StageModel['services'];
}

/** A stage `acme/shop/staging` on the local engine, with no apps or services unless given. */
export function stage(over: StageOptions = {}): StageModel {
  return clone<StageModel>({
    organization: { name: 'acme', provider: 'local', ...over.organization },
    project: { name: 'shop', ...over.project },
    stage: {
      name: over.name ?? 'staging',
      approval: over.approval ?? 'auto',
      protected: over.protected ?? false,
      notifications: over.notifications ?? {},
      after: over.after,
    },
    apps: over.apps ?? {},
    services: over.services ?? {},
  });
}

/** Deep copy through JSON (the models are plain JSON, so this also drops fields set to undefined). */
export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
