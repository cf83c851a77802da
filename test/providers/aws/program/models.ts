import type { AppModel, ServiceModel, ServiceType, StageModel } from '../../../../src/model/stage-model.js';
import { app as resolvedApp } from '../../../reconciler/models.js';

/** An app with the schema's defaults (SetOps semantics), an image (Fargate needs one) and `over` on top. */
export function app(over: Partial<AppModel> = {}): AppModel {
  return resolvedApp({ image: 'ghcr.io/acme/app:1.0.0', ...over });
}

/** A service of `type` with default backups and `over` on top. */
export function service(type: ServiceType, over: Partial<ServiceModel> = {}): ServiceModel {
  return { type, options: {}, backup: { retentionDays: 7 }, deletionProtection: false, ...over };
}

/** A stage of organization `acme` (aws, eu-west-1), project `shop`. */
export function stageModel(name: string, over: Partial<StageModel> & { protected?: boolean } = {}): StageModel {
  const { protected: isProtected = false, ...rest } = over;
  return {
    organization: { name: 'acme', provider: 'aws', aws: { region: 'eu-west-1', accountId: '123456789012' } },
    project: { name: 'shop' },
    stage: { name, approval: 'auto', protected: isProtected, notifications: {} },
    apps: {},
    services: {},
    ...rest,
  };
}

/** Hand-built edge cases, by golden name. */
export function edgeCases(): Record<string, StageModel> {
  return {
    // Two public apps without domains (only the first is the load balancer's default) and a private one.
    'no-domains': stageModel('preview', {
      apps: {
        api: app({ public: true, port: 8080, healthCheck: { path: '/health', status: '200', interval: 30, timeout: 5, retries: 3, startPeriod: 60 } }),
        admin: app({ public: true }),
        jobs: app({ command: 'bundle exec sidekiq', entrypoint: ['/usr/bin/tini', '--'] }),
      },
    }),
    // Public and private tcp apps: a network load balancer, no certificates, no listener rules.
    'tcp-app': stageModel('staging', {
      apps: {
        mqtt: app({ protocol: 'tcp', public: true, port: 1883, image: 'eclipse-mosquitto:2' }),
        grpc: app({ protocol: 'tcp', port: 50051 }),
      },
    }),
    // Scale 0 stops an app: a service with desired count 0 that does not wait for a steady state, no running alarm.
    'scale-zero': stageModel('qa', {
      stage: { name: 'qa', approval: 'auto', protected: false, notifications: { 'email-dev': { type: 'email', target: 'dev@acme.example' } } },
      apps: { web: app({ public: true, scale: 0, domains: { 'qa.shop.acme.example': { primary: true } } }) },
    }),
    // An existing VPC (tagged subnets) and no accountId: the caller identity names the account.
    'existing-vpc': {
      ...stageModel('sandbox', {
        apps: { web: app({ public: true, domains: { 'sandbox.acme.example': { primary: true } } }) },
        services: { database: service('postgresql', { version: '15' }) },
      }),
      organization: { name: 'acme', provider: 'aws', aws: { region: 'us-east-2', vpcId: 'vpc-0abc1234' } },
    },
    // Every service type, linked; secrets; two postgresql links; a protected stage with webhooks.
    'all-services': stageModel('production', {
      protected: true,
      stage: {
        name: 'production',
        approval: 'manual',
        protected: true,
        notifications: {
          'email-ops': { type: 'email', target: 'ops@acme.example' },
          'webhook-hooks': { type: 'webhook', target: 'https://hooks.acme.example/alerts' },
        },
      },
      apps: {
        web: app({
          public: true,
          port: 3000,
          scale: 3,
          resources: { cpu: 384, memory: 700 },
          healthCheck: { path: '/healthz', status: '200-399', interval: 10, timeout: 10, retries: 5, startPeriod: 15, command: 'curl -fs http://localhost:3000/healthz' },
          env: { NODE_ENV: 'production', STRIPE_KEY: { secret: 'STRIPE_KEY' }, SENTRY_DSN: { secret: 'SENTRY_DSN' } },
          domains: {
            'shop.acme.example': { primary: true },
            'www.shop.acme.example': { primary: false },
            'acme.example': { primary: false },
          },
          links: {
            database: {},
            analytics: { envKey: 'ANALYTICS_URL' },
            cache: {},
            uploads: {},
            files: { path: '/data', readOnly: false },
            catalog: { envKey: 'CATALOG_URL' },
            search: {},
          },
          preDeploy: { command: 'npm run migrate' },
        }),
        worker: app({
          command: ['node', 'worker.js'],
          env: { STRIPE_KEY: { secret: 'STRIPE_KEY' } },
          links: { database: {}, files: { readOnly: true } },
        }),
      },
      services: {
        database: service('postgresql', { version: '16', plan: 'db.r6g.large.ha', options: { extensions: ['pg_stat_statements', 'postgis'], minStorage: 50, maxStorage: 500 }, backup: { retentionDays: 14 }, deletionProtection: true }),
        analytics: service('postgresql', { version: '17', backup: { retentionDays: 0 }, deletionProtection: true }),
        cache: service('redis', { version: '7', plan: 'cache.r7g.large.ha', backup: { retentionDays: 3 }, deletionProtection: true }),
        uploads: service('s3', { options: { blockPublicAccess: true }, deletionProtection: true }),
        files: service('volume', { deletionProtection: true }),
        catalog: service('documentdb', { version: '4', options: { scale: 2 }, deletionProtection: true }),
        search: service('elasticsearch', { version: '7', plan: 'r6g.large.search.ha', options: { storage: 50 }, deletionProtection: true }),
      },
    }),
  };
}
