/** Pure parts of the AWS program (no @pulumi/aws loaded): names, zones, sizes, versions, link keys, model checks. */
import fc from 'fast-check';
import t from 'tap';
import { hostedZoneFor, orderedDomains, chunks, rulePriorities, WILDCARD_BLOCKS } from '../../../../src/providers/aws/program/domains.js';
import { linkKeys, isPrimaryPostgresLink, keyPrefix } from '../../../../src/providers/aws/program/link-keys.js';
import { hashedName, stageNames } from '../../../../src/providers/aws/program/names.js';
import { documentdbEngineVersion, elasticsearchEngineVersion, redisEngineVersion } from '../../../../src/providers/aws/program/services/versions.js';
import { fargateTaskSize, programProblems } from '../../../../src/providers/aws/program/validate.js';
import { app, service, stage } from '../../../helpers/models.js';
import { AWS_ORG, IMAGE } from './edge-cases.js';

const nameArb = (min: number, max: number): fc.Arbitrary<string> =>
  fc.stringMatching(new RegExp(`^[a-z][a-z0-9-]{${min - 1},${max - 1}}$`));
const LB_NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$/;

t.test('load balancer and target group names stay valid within 32 characters for every allowed name', async (tt) => {
  fc.assert(
    fc.property(nameArb(3, 20), nameArb(3, 12), nameArb(3, 16), fc.integer({ min: 1, max: 65535 }), (project, stageName, appName, port) => {
      const model = stage({ name: stageName, organization: AWS_ORG, project: { name: project } });
      const names = stageNames(model);
      for (const n of [names.alb, names.nlb, names.targetGroup(appName, ['HTTP', String(port), 'vpc'])]) {
        if (!LB_NAME.test(n) || n.length > 32 || n.startsWith('internal-')) return false;
      }
      const search = names.searchDomain(appName.slice(0, 16) + 'xx');
      if (!/^[a-z][a-z0-9-]{2,27}$/.test(search)) return false;
      return true;
    }),
  );
});

t.test('names are deterministic and distinct per stage and per replacement key', async (tt) => {
  const a = stageNames(stage({ name: 'production', organization: AWS_ORG }));
  const b = stageNames(stage({ name: 'production', organization: AWS_ORG }));
  const c = stageNames(stage({ name: 'staging', organization: AWS_ORG }));
  tt.equal(a.alb, b.alb);
  tt.not(a.alb, c.alb);
  tt.not(a.targetGroup('web', ['HTTP', '3000', 'vpc']), a.targetGroup('web', ['HTTP', '3001', 'vpc']), 'a port change gives a new target group name');
  tt.equal(a.secretParameter('STRIPE_KEY'), '/setops/acme/shop/production/STRIPE_KEY');
  tt.equal(stageNames(stage({ name: 'production', organization: AWS_ORG }), '/custom/').secretParameter('X'), '/custom/acme/shop/production/X');
  tt.equal(a.family('web', true), 'acme-shop-production-web-predeploy');
  tt.equal(a.logGroup('web'), '/setops/acme/shop/production/web');
  tt.equal(hashedName('a-very-long-readable-name-that-does-not-fit', ['k'], 32).length, 32);
  tt.notMatch(hashedName('abcdefghijklmnopqrstuvw-', ['k'], 32), /--/, 'no hyphen left dangling before the hash');
});

t.test('hosted zone lookup', async (tt) => {
  const cases: [string, Record<string, string>, unknown][] = [
    ['example.com', {}, { name: 'example.com' }],
    ['shop.example.com', {}, { name: 'example.com' }],
    ['www.shop.example.com', {}, { name: 'example.com' }],
    ['shop.example.co.uk', {}, { name: 'example.co.uk' }],
    ['example.co.uk', {}, { name: 'example.co.uk' }],
    ['www.shop.example.com', { 'shop.example.com': 'ZSHOP', 'example.com': 'ZROOT' }, { id: 'ZSHOP' }],
    ['example.com', { 'shop.example.com': 'ZSHOP', 'example.com': 'ZROOT' }, { id: 'ZROOT' }],
    ['notshop.example.com', { 'shop.example.com': 'ZSHOP' }, { name: 'example.com' }],
  ];
  for (const [domain, ids, want] of cases) tt.same(hostedZoneFor(domain, ids), want, domain);
});

t.test('domains: primary first, others sorted; host conditions in chunks of five', async (tt) => {
  tt.same(orderedDomains(app({ domains: { 'b.x': { primary: false }, 'c.x': { primary: true }, 'a.x': { primary: false } } })), ['c.x', 'a.x', 'b.x']);
  tt.same(orderedDomains(app()), []);
  tt.same(chunks([1, 2, 3, 4, 5, 6, 7], 5), [[1, 2, 3, 4, 5], [6, 7]]);
});

t.test('Fargate task sizes', async (tt) => {
  const cases: [number, number, unknown][] = [
    [256, 512, { cpu: 256, memory: 512 }],
    [128, 256, { cpu: 256, memory: 512 }],
    [256, 3000, { cpu: 512, memory: 3072 }],
    [384, 700, { cpu: 512, memory: 1024 }],
    [1024, 1024, { cpu: 1024, memory: 2048 }],
    [4096, 30720, { cpu: 4096, memory: 30720 }],
    [4096, 30721, { cpu: 8192, memory: 32768 }],
    [16384, 122880, { cpu: 16384, memory: 122880 }],
    [16384, 122881, null],
  ];
  for (const [cpu, memory, want] of cases) tt.same(fargateTaskSize(cpu, memory), want, `${cpu}/${memory}`);
});

t.test('engine versions', async (tt) => {
  tt.same([redisEngineVersion('7'), redisEngineVersion('6'), redisEngineVersion('7.2'), redisEngineVersion(undefined)], ['7.1', '6.x', '7.2', '7.1']);
  tt.same([documentdbEngineVersion('4'), documentdbEngineVersion('5.0.0'), documentdbEngineVersion(undefined)], ['4.0.0', '5.0.0', '5.0.0']);
  tt.same([elasticsearchEngineVersion('7'), elasticsearchEngineVersion('OpenSearch_2.13'), elasticsearchEngineVersion('6.8')], ['Elasticsearch_7.10', 'OpenSearch_2.13', 'Elasticsearch_6.8']);
});

t.test('link keys: URLs plain, passwords as secrets', async (tt) => {
  tt.same(linkKeys('postgresql', {}, true), {
    main: 'DATABASE_URL',
    env: ['DATABASE_URL', 'PGDATABASE', 'PGHOST', 'PGPORT', 'PGSSLMODE', 'PGUSER'],
    secrets: ['DATABASE_PASSWORD', 'PGPASSWORD'],
  });
  tt.same(linkKeys('postgresql', { envKey: 'ANALYTICS_URL' }, false), { main: 'ANALYTICS_URL', env: ['ANALYTICS_URL'], secrets: ['ANALYTICS_PASSWORD'] });
  tt.same(linkKeys('redis', {}, false).secrets, ['REDIS_PASSWORD']);
  tt.same(linkKeys('s3', { envKey: 'MEDIA_BUCKET' }, false).env, ['MEDIA_BUCKET', 'MEDIA_REGION']);
  tt.same(linkKeys('volume', {}, false), { main: 'VOLUME_PATH', env: ['VOLUME_PATH'], secrets: [] });
  tt.same([keyPrefix('DATABASE_URL'), keyPrefix('S3_BUCKET'), keyPrefix('SEARCH')], ['DATABASE', 'S3', 'SEARCH']);
  for (const type of ['postgresql', 'redis', 'documentdb'] as const) {
    tt.ok(linkKeys(type, {}, false).env.every((k) => !k.includes('PASSWORD')), `${type}: no password among plain env keys`);
  }
  const model = stage({
    name: 'dev',
    organization: AWS_ORG,
    apps: { web: app({ image: IMAGE, links: { main: { envKey: 'MAIN_DB_URL' }, other: { envKey: 'OTHER_URL' } } }) },
    services: { main: service('postgresql'), other: service('postgresql') },
  });
  tt.notOk(isPrimaryPostgresLink(model, model.apps.web!, 'main'), 'two postgres links, none on DATABASE_URL: no libpq variables');
  const one = stage({ name: 'dev', organization: AWS_ORG, apps: { web: app({ image: IMAGE, links: { db: { envKey: 'PRIMARY_URL' } } }) }, services: { db: service('postgresql') } });
  tt.ok(isPrimaryPostgresLink(one, one.apps.web!, 'db'), 'a single postgres link gets the libpq variables');
});

t.test('model problems are all reported, each with its subject and what to do', async (tt) => {
  const model = stage({
    name: 'dev',
    organization: AWS_ORG,
    apps: {
      a: app({ public: true, protocol: 'tcp', port: 7000 }),
      b: app({ image: IMAGE, public: true, protocol: 'tcp', port: 7000, resources: { cpu: 32768, memory: 512 } }),
      c: app({ image: IMAGE, env: { PGHOST: 'x' }, links: { db: {}, other: {} } }),
      d: app({ image: IMAGE, links: { missing: {} } }),
      e: app({ image: IMAGE, env: { PORT: '8080' } }),
    },
    services: { db: service('postgresql'), other: service('postgresql') },
  });
  tt.same(programProblems(model), [
    'app/b in acme/shop/dev: public tcp port 7000 is already used by app/a on the stage\'s network load balancer; choose another port',
    'app/a in acme/shop/dev: image is required on AWS (ECS runs container images); set spec.image',
    'app/b in acme/shop/dev: resources cpu 32768 / memory 512 exceed the largest Fargate task (16384 / 122880); lower them',
    'app/c in acme/shop/dev: env var PGHOST is set by both spec.env and link/c/db; rename it in spec.env or give the link another envKey',
    'app/c in acme/shop/dev: env var DATABASE_URL is set by both link/c/db and link/c/other; give one of the links another envKey',
    'app/c in acme/shop/dev: env var DATABASE_PASSWORD is set by both link/c/db and link/c/other; give one of the links another envKey',
    'app/d in acme/shop/dev: links service missing, which does not exist in this stage; remove the link or add the service',
    'app/e in acme/shop/dev: env var PORT is set by the platform and by spec.env; remove it from spec.env',
  ]);
  tt.same(programProblems(stage({ name: 'ok', organization: AWS_ORG, apps: { web: app({ image: IMAGE }) } })), []);
});

t.test('listener rule priorities: one block of 10 per app, unique, stable when apps come and go', async (tt) => {
  fc.assert(
    fc.property(fc.uniqueArray(nameArb(3, 16), { minLength: 1, maxLength: 60 }), (apps) => {
      const p = rulePriorities(apps);
      const values = apps.map((a) => p[a]!);
      return new Set(values).size === apps.length && values.every((v) => v % 10 === 0 && v >= 10 && v + 9 <= 49999);
    }),
  );
  const before = rulePriorities(['web', 'worker']);
  const after = rulePriorities(['admin', 'web', 'worker']);
  tt.equal(after.web, before.web, 'adding an app does not move another app\'s rules');
  tt.equal(after.worker, before.worker);
  tt.same(rulePriorities(['b', 'a']), rulePriorities(['a', 'b']), 'independent of input order');
  fc.assert(
    fc.property(nameArb(3, 16), nameArb(3, 16), (exact, wildcard) =>
      rulePriorities([exact])[exact]! + 9 < rulePriorities([wildcard], WILDCARD_BLOCKS)[wildcard]!),
    { numRuns: 200 },
  );
  tt.pass('wildcard host rules are evaluated after every exact domain rule');
});
