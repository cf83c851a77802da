import fc from 'fast-check';
import type { AppModel, EnvValue, ServiceModel, ServiceType, StageModel } from '../../src/model/stage-model.js';
import { stage } from '../helpers/models.js';

/** Small name pools so desired and actual models share apps, services and keys often. */
const APP_NAMES = ['web', 'api', 'worker'] as const;
const SERVICE_NAMES = ['database', 'cache', 'files'] as const;
const ENV_KEYS = ['A', 'B', 'API_KEY'] as const;

const command = fc.oneof(fc.constantFrom('node server.js', "sh -c 'x y'"), fc.array(fc.constantFrom('node', 'a b', "it's"), { minLength: 1, maxLength: 3 }));
const envValue: fc.Arbitrary<EnvValue> = fc.oneof(fc.constantFrom('1', 'hello world', ''), fc.constantFrom('k1', 'k2').map((secret) => ({ secret })));

function subset<T extends string>(names: readonly T[]): fc.Arbitrary<T[]> {
  return fc.subarray([...names]);
}

const app = (services: string[]): fc.Arbitrary<AppModel> =>
  fc.record({
    image: fc.option(fc.constantFrom('img:1', 'img:2'), { nil: undefined }),
    command: fc.option(command, { nil: undefined }),
    port: fc.constantFrom(3000, 5000),
    protocol: fc.constantFrom('http' as const, 'tcp' as const),
    public: fc.boolean(),
    scale: fc.integer({ min: 0, max: 16 }),
    resources: fc.record({ cpu: fc.constantFrom(256, 512), memory: fc.constantFrom(512, 1024) }),
    healthCheck: fc.record({
      path: fc.constantFrom('/', '/healthz'),
      status: fc.constantFrom('200-499', '200-399'),
      interval: fc.constantFrom(10, 5),
      timeout: fc.constant(10),
      retries: fc.constantFrom(5, 3),
      startPeriod: fc.constant(15),
    }),
    env: fc.dictionary(fc.constantFrom(...ENV_KEYS), envValue),
    domains: fc.dictionary(fc.constantFrom('a.example.com', 'b.example.com'), fc.record({ primary: fc.boolean() })),
    links: fc
      .tuple(fc.subarray(services), fc.constantFrom(undefined, 'DATABASE_URL', 'OTHER_URL'))
      .map(([names, envKey]) => Object.fromEntries(names.map((n) => [n, envKey === undefined ? {} : { envKey }]))),
  }).map((a) => {
    const out = { ...a } as AppModel;
    if (out.image === undefined) delete out.image;
    if (out.command === undefined) delete out.command;
    return out;
  });

const service: fc.Arbitrary<ServiceModel> = fc.record({
  type: fc.constantFrom<ServiceType>('postgresql', 'redis', 's3'),
  version: fc.constantFrom('16', '17'),
  options: fc.dictionary(fc.constantFrom('minStorage', 'extensions'), fc.oneof(fc.integer({ min: 20, max: 30 }), fc.constant(['pgcrypto']))),
  backup: fc.record({ retentionDays: fc.constantFrom(1, 7) }),
  deletionProtection: fc.boolean(),
});

/** A valid resolved StageModel of `acme/shop/staging`. */
export const stageModel: fc.Arbitrary<StageModel> = fc
  .tuple(subset(SERVICE_NAMES), fc.boolean(), fc.constantFrom<'local' | 'aws'>('local', 'local', 'aws'))
  .chain(([serviceNames, prot, provider]) =>
    fc.record({
      services: fc.tuple(...serviceNames.map(() => service)).map((list) => Object.fromEntries(serviceNames.map((n, i) => [n, list[i]!]))),
      apps: fc.dictionary(fc.constantFrom(...APP_NAMES), app(serviceNames)),
      notifications: fc.dictionary(fc.constantFrom('ops', 'hook'), fc.record({ type: fc.constantFrom('email' as const), target: fc.constantFrom('a@x.dev', 'b@x.dev') })),
      approval: fc.constantFrom('auto' as const, 'manual' as const),
      description: fc.option(fc.constantFrom('shop', 'the shop'), { nil: undefined }),
    }).map((r) =>
      stage({
        organization: provider === 'aws' ? { provider, aws: { region: 'eu-central-1' } } : { provider },
        project: { description: r.description },
        approval: r.approval,
        protected: prot,
        notifications: r.notifications,
        apps: r.apps,
        services: r.services,
      }),
    ),
  );
