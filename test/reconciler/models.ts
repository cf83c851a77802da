import type { AppModel, ServiceModel, StageModel } from '../../src/model/stage-model.js';

/** A resolved app with every default filled in, as the loader produces it. */
export function app(over: Partial<AppModel> = {}): AppModel {
  return {
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
  };
}

/** A resolved service. */
export function service(over: Partial<ServiceModel> = {}): ServiceModel {
  return { type: 'postgresql', version: '16', options: {}, backup: { retentionDays: 7 }, deletionProtection: false, ...over };
}

/** A resolved stage `acme/shop/<name>` with no apps or services unless given. */
export function stage(over: { name?: string; protected?: boolean; apps?: StageModel['apps']; services?: StageModel['services'] } = {}): StageModel {
  return {
    organization: { name: 'acme', provider: 'local' },
    project: { name: 'shop' },
    stage: { name: over.name ?? 'staging', approval: 'auto', protected: over.protected ?? false, notifications: {} },
    apps: over.apps ?? {},
    services: over.services ?? {},
  };
}

/** Deep copy through JSON (the models are plain JSON). */
export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
