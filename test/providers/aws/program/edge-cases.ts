import type { OrganizationModel, StageModel } from '../../../../src/model/stage-model.js';
import { app, service, stage } from '../../../helpers/models.js';

/** The organization of the program tests' stages: acme on AWS in eu-west-1, account pinned. */
export const AWS_ORG: Partial<OrganizationModel> = { provider: 'aws', aws: { region: 'eu-west-1', accountId: '123456789012' } };

/** The image of the program tests' apps (Fargate needs one). */
export const IMAGE = 'ghcr.io/acme/app:1.0.0';

/** Hand-built edge cases, by golden name. */
export function edgeCases(): Record<string, StageModel> {
  return {
    // Two public apps without domains (only the first is the load balancer's default) and a private one.
    'no-domains': stage({
      name: 'preview',
      organization: AWS_ORG,
      apps: {
        api: app({ image: IMAGE, public: true, port: 8080, healthCheck: { path: '/health', status: '200', interval: 30, timeout: 5, retries: 3, startPeriod: 60 } }),
        admin: app({ image: IMAGE, public: true }),
        jobs: app({ image: IMAGE, command: 'bundle exec sidekiq', entrypoint: ['/usr/bin/tini', '--'] }),
      },
    }),
    // Public and private tcp apps: a network load balancer, no certificates, no listener rules.
    'tcp-app': stage({
      name: 'staging',
      organization: AWS_ORG,
      apps: {
        mqtt: app({ protocol: 'tcp', public: true, port: 1883, image: 'eclipse-mosquitto:2' }),
        grpc: app({ image: IMAGE, protocol: 'tcp', port: 50051 }),
      },
    }),
    // Scale 0 stops an app: a service with desired count 0 that does not wait for a steady state, no running alarm.
    'scale-zero': stage({
      name: 'qa',
      organization: AWS_ORG,
      notifications: { 'email-dev': { type: 'email', target: 'dev@acme.example' } },
      apps: { web: app({ image: IMAGE, public: true, scale: 0, domains: { 'qa.shop.acme.example': { primary: true } } }) },
    }),
    // An existing VPC (tagged subnets) and no accountId: the caller identity names the account.
    // Schedules with and without `timeout`: a state machine for the one, a direct ECS target for the other.
    schedules: stage({
      name: 'staging',
      organization: AWS_ORG,
      apps: {
        web: app({ image: IMAGE, schedules: { cleanup: { cron: '*/15 * * * *', command: 'bin/cleanup --old' }, report: { cron: '0 8 * * 1-5', command: ['bin/report'], timezone: 'Europe/Berlin', timeout: 600 } } }),
      },
    }),
    'existing-vpc': stage({
      name: 'sandbox',
      organization: { provider: 'aws', aws: { region: 'us-east-2', vpcId: 'vpc-0abc1234' } },
      apps: { web: app({ image: IMAGE, public: true, domains: { 'sandbox.acme.example': { primary: true } } }) },
      services: { database: service('postgresql', { version: '15', plan: undefined, options: {} }) },
    }),
    // Every service type, linked; secrets; two postgresql links; a protected stage with webhooks.
    'all-services': stage({
      name: 'production',
      organization: AWS_ORG,
      protected: true,
      approval: 'manual',
      notifications: {
        'email-ops': { type: 'email', target: 'ops@acme.example' },
        'webhook-hooks': { type: 'webhook', target: 'https://hooks.acme.example/alerts' },
      },
      apps: {
        web: app({
          image: IMAGE,
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
          image: IMAGE,
          command: ['node', 'worker.js'],
          env: { STRIPE_KEY: { secret: 'STRIPE_KEY' } },
          links: { database: {}, files: { readOnly: true } },
        }),
      },
      services: {
        database: service('postgresql', { version: '16', plan: 'db.r6g.large.ha', options: { extensions: ['pg_stat_statements', 'postgis'], minStorage: 50, maxStorage: 500 }, backup: { retentionDays: 14 }, deletionProtection: true }),
        analytics: service('postgresql', { version: '17', plan: undefined, options: {}, backup: { retentionDays: 0 }, deletionProtection: true }),
        cache: service('redis', { version: '7', plan: 'cache.r7g.large.ha', backup: { retentionDays: 3 }, deletionProtection: true }),
        uploads: service('s3', { options: { blockPublicAccess: true }, deletionProtection: true }),
        files: service('volume', { deletionProtection: true }),
        catalog: service('documentdb', { version: '4', plan: undefined, options: { scale: 2 }, deletionProtection: true }),
        search: service('elasticsearch', { version: '7', plan: 'r6g.large.search.ha', options: { storage: 50 }, deletionProtection: true }),
      },
    }),
  };
}
