import t from 'tap';
import { readFileSync } from 'node:fs';
import { BASE, app, load, service, source } from './helpers.js';
import { loadDesired } from '../../src/manifests/load.js';
import { canonicalJson } from '../../src/model/canonical.js';
import type { StageModel } from '../../src/model/stage-model.js';

const stage = (models: StageModel[], name: string) => {
  const m = models.find((s) => s.stage.name === name);
  if (!m) throw new Error(`no stage ${name}`);
  return m;
};

t.test('every default is filled in (SetOps defaults)', async (t) => {
  const s = load(app('web', 'command: node server.js'));
  const web = stage(s.stages, 'staging').apps.web;
  t.strictSame(web, {
    command: 'node server.js',
    domains: {},
    env: {},
    healthCheck: { interval: 10, path: '/', retries: 5, startPeriod: 15, status: '200-499', timeout: 10 },
    links: {},
    port: 5000,
    protocol: 'http',
    public: false,
    resources: { cpu: 256, memory: 512 },
    scale: 1,
  });
  const staging = stage(s.stages, 'staging');
  t.strictSame(staging.stage, { approval: 'auto', name: 'staging', notifications: {}, protected: false });
  t.strictSame(staging.organization, { name: 'acme', provider: 'local' });
  t.strictSame(staging.project, { name: 'shop' });
  t.strictSame(staging.services.database, {
    backup: { retentionDays: 7 },
    deletionProtection: false,
    options: { extensions: [], minStorage: 20 },
    plan: 'db.t4g.micro',
    type: 'postgresql',
    version: '16',
  });
});

t.test('boundary values are accepted', async (t) => {
  const s = load(
    app('web', 'port: 65535\nscale: 0\nresources:\n  cpu: 128\n  memory: 128\nprotocol: tcp') +
      '---\n' +
      app('api', 'port: 1\nscale: 16\nresources:\n  cpu: 16384'),
  );
  const apps = stage(s.stages, 'staging').apps;
  t.equal(apps.web!.port, 65535);
  t.equal(apps.web!.scale, 0);
  t.equal(apps.web!.protocol, 'tcp');
  t.equal(apps.api!.scale, 16);
});

t.test('service defaults per type; deletionProtection follows the stage; versions become strings', async (t) => {
  const s = load(
    [
      service('cache', 'type: redis'),
      service('uploads', 'type: s3'),
      service('files', 'type: volume\ndeletionProtection: false'),
      service('docs', 'type: documentdb'),
      service('search', 'type: elasticsearch\nversion: 7.10\nbackup:\n  retentionDays: 0'),
      service('old-db', 'type: postgresql\nversion: 13\noptions:\n  extensions: [postgis]\n  maxStorage: 100'),
    ].join('---\n'),
  );
  const prod = stage(s.stages, 'production').services;
  const staging = stage(s.stages, 'staging').services;
  t.strictSame(prod.cache, { backup: { retentionDays: 1 }, deletionProtection: true, options: {}, plan: 'cache.t4g.micro', type: 'redis', version: '7' });
  t.strictSame(prod.uploads, { backup: { retentionDays: 7 }, deletionProtection: true, options: { blockPublicAccess: true }, type: 's3' });
  t.equal(staging.uploads!.deletionProtection, false, 'unprotected stage');
  t.equal(prod.files!.deletionProtection, false, 'explicit false wins on a protected stage');
  t.strictSame(prod.docs!.options, { scale: 1 });
  t.equal(prod.search!.version, '7.1', 'YAML number 7.10 is the number 7.1');
  t.equal(prod.search!.backup.retentionDays, 0);
  t.strictSame(prod['old-db'], {
    backup: { retentionDays: 7 },
    deletionProtection: true,
    options: { extensions: ['postgis'], maxStorage: 100, minStorage: 20 },
    plan: 'db.t4g.micro',
    type: 'postgresql',
    version: '13',
  });
});

t.test('stage overrides are JSON merge patches, validated per stage', async (t) => {
  const s = load(
    app(
      'web',
      'scale: 1\nresources:\n  memory: 512\nenv:\n  A: one\n  B: two\nlinks:\n  - service: database\nstages:\n  production:\n    scale: 3\n    resources:\n      memory: 1024\n    env:\n      B: null\n      C: three\n    links: []',
    ) +
      '---\n' +
      service('cache', 'type: redis\nversion: "6"\nstages:\n  production:\n    version: 7\n    plan: cache.m6g.large.ha'),
  );
  const prod = stage(s.stages, 'production');
  const staging = stage(s.stages, 'staging');
  t.equal(prod.apps.web!.scale, 3);
  t.strictSame(prod.apps.web!.resources, { cpu: 256, memory: 1024 });
  t.strictSame(prod.apps.web!.env, { A: 'one', C: 'three' }, 'null removes B');
  t.strictSame(prod.apps.web!.links, {}, 'lists are replaced');
  t.equal(staging.apps.web!.scale, 1);
  t.strictSame(staging.apps.web!.env, { A: 'one', B: 'two' });
  t.strictSame(staging.apps.web!.links, { database: {} });
  t.equal(prod.services.cache!.version, '7');
  t.equal(prod.services.cache!.plan, 'cache.m6g.large.ha');
  t.equal(staging.services.cache!.version, '6');
  t.equal(s.origins['acme/shop/production']!['app/web']![0], 'case.yaml');
});

t.test('an override may null a field with a default: the default comes back', async (t) => {
  const s = load(app('web', 'port: 8080\nstages:\n  production:\n    port: null'));
  t.equal(stage(s.stages, 'production').apps.web!.port, 5000);
  t.equal(stage(s.stages, 'staging').apps.web!.port, 8080);
});

t.test('pinned apps exist in their stage only; excludes remove apps and services', async (t) => {
  const s = load(
    app('preview-bot', 'scale: 1', '  stage: staging\n') +
      '---\n' +
      app('web', 'links:\n  - service: database') +
      '---\n' +
      app('api', 'port: 80') +
      '---\n' +
      'apiVersion: setopsd/v1\nkind: Stage\nmetadata:\n  name: preview\n  project: shop\nspec:\n  exclude: [database, web]\n',
  );
  t.strictSame(Object.keys(stage(s.stages, 'staging').apps), ['api', 'preview-bot', 'web']);
  t.strictSame(Object.keys(stage(s.stages, 'production').apps), ['api', 'web']);
  t.strictSame(Object.keys(stage(s.stages, 'preview').apps), ['api']);
  t.strictSame(stage(s.stages, 'preview').services, {});
  t.strictSame(s.counts, { organizations: 1, projects: 1, stages: 3, apps: 3, services: 1 });
});

t.test('env values: numbers and booleans become strings, secrets stay references', async (t) => {
  const s = load(app('web', 'env:\n  N: 5\n  B: true\n  S: text\n  K: {secret: stripe-key}\n  E: ""'));
  t.strictSame(stage(s.stages, 'staging').apps.web!.env, { B: 'true', E: '', K: { secret: 'stripe-key' }, N: '5', S: 'text' });
});

t.test('domains: strings or {name, primary}; the first is primary when none is marked', async (t) => {
  const s = load(
    app('web', 'public: true\ndomains:\n  - shop.example.com\n  - www.shop.example.com') +
      '---\n' +
      app('api', 'public: true\ndomains:\n  - api.example.com\n  - name: api2.example.com\n    primary: true'),
  );
  const apps = stage(s.stages, 'staging').apps;
  t.strictSame(apps.web!.domains, { 'shop.example.com': { primary: true }, 'www.shop.example.com': { primary: false } });
  t.strictSame(apps.api!.domains, { 'api.example.com': { primary: false }, 'api2.example.com': { primary: true } });
});

t.test('links: envKey, volume path and readOnly', async (t) => {
  const s = load(
    service('files', 'type: volume') +
      '---\n' +
      app('web', 'links:\n  - service: database\n    envKey: PG_URL\n  - service: files\n    path: /data\n    readOnly: true'),
  );
  t.strictSame(stage(s.stages, 'staging').apps.web!.links, { database: { envKey: 'PG_URL' }, files: { path: '/data', readOnly: true } });
});

t.test('command, entrypoint, health check and preDeploy commands are kept as written', async (t) => {
  const s = load(
    app('web', 'command: [node, server.js]\nentrypoint: /bin/entry\nhealthCheck:\n  command: [CMD, curl, -f, http://localhost/]\npreDeploy:\n  command: npm run migrate'),
  );
  const web = stage(s.stages, 'staging').apps.web!;
  t.strictSame(web.command, ['node', 'server.js']);
  t.equal(web.entrypoint, '/bin/entry');
  t.strictSame(web.healthCheck.command, ['CMD', 'curl', '-f', 'http://localhost/']);
  t.strictSame(web.preDeploy, { command: 'npm run migrate' });
});

t.test('notifications: default names email-<local part> / webhook-<host>, made unique in list order', async (t) => {
  const stageDoc = `apiVersion: setopsd/v1
kind: Stage
metadata:
  name: preview
  project: shop
spec:
  notifications:
    - email: ops@acme.example
    - email: ops@other.example
    - webhook: https://hooks.slack.example/T000/B000
    - email: oncall+pager@acme.example
    - email: ops@third.example
      name: email-ops-3
    - email: ops@fourth.example
    - webhook: https://hooks.slack.example/other
      name: slack
`;
  const s = load(stageDoc);
  t.strictSame(stage(s.stages, 'preview').stage.notifications, {
    'email-ops': { target: 'ops@acme.example', type: 'email' },
    'email-ops-2': { target: 'ops@other.example', type: 'email' },
    'webhook-hooks-slack-example': { target: 'https://hooks.slack.example/T000/B000', type: 'webhook' },
    'email-oncall-pager': { target: 'oncall+pager@acme.example', type: 'email' },
    'email-ops-3': { target: 'ops@third.example', type: 'email' },
    'email-ops-4': { target: 'ops@fourth.example', type: 'email' },
    slack: { target: 'https://hooks.slack.example/other', type: 'webhook' },
  });
  t.strictSame(Object.keys(s.origins['acme/shop/preview']!).sort(), [
    'notification/email-oncall-pager',
    'notification/email-ops',
    'notification/email-ops-2',
    'notification/email-ops-3',
    'notification/email-ops-4',
    'notification/slack',
    'notification/webhook-hooks-slack-example',
    'service/database',
    'stage',
  ]);
});

t.test('organization settings: aws, backend, secrets', async (t) => {
  const base = BASE.replace(
    'kind: Organization\nmetadata:\n  name: acme\n',
    'kind: Organization\nmetadata:\n  name: acme\nspec:\n  provider: aws\n  aws:\n    region: eu-central-1\n    accountId: "123456789012"\n  backend: s3://acme-state\n  secrets:\n    env: {}\n    file: /etc/setopsd/secrets.yaml\n',
  );
  const s = load('', base);
  t.strictSame(s.stages[0]!.organization, {
    aws: { accountId: '123456789012', region: 'eu-central-1' },
    backend: 's3://acme-state',
    name: 'acme',
    provider: 'aws',
    secrets: { env: { prefix: 'SETOPSD_SECRET_' }, file: '/etc/setopsd/secrets.yaml' },
  });
});

t.test('stage models are canonical: sorted keys, stages sorted by key, origins and counts', async (t) => {
  const s = load(app('web', 'scale: 2'));
  t.strictSame(
    s.stages.map((m) => `${m.organization.name}/${m.project.name}/${m.stage.name}`),
    ['acme/shop/production', 'acme/shop/staging'],
  );
  for (const m of s.stages) t.equal(JSON.stringify(m), canonicalJson(m), 'keys already in canonical order');
  t.strictSame(s.origins['acme/shop/staging'], { 'app/web': ['case.yaml'], 'service/database': ['base.yaml'], stage: ['base.yaml'] });
});

t.test('several organizations and projects: metadata.organization picks the scope', async (t) => {
  const text = `apiVersion: setopsd/v1
kind: Organization
metadata: {name: acme}
---
apiVersion: setopsd/v1
kind: Organization
metadata: {name: globex}
spec: {provider: aws, aws: {region: us-east-1}}
---
apiVersion: setopsd/v1
kind: Project
metadata: {name: shop, organization: acme}
---
apiVersion: setopsd/v1
kind: Project
metadata: {name: shop, organization: globex}
---
apiVersion: setopsd/v1
kind: Stage
metadata: {name: staging, organization: acme, project: shop}
---
apiVersion: setopsd/v1
kind: Stage
metadata: {name: staging, organization: globex, project: shop}
---
apiVersion: setopsd/v1
kind: App
metadata: {name: web, organization: globex, project: shop}
`;
  const r = loadDesired(source({ 'all.yaml': text }));
  t.ok(r.ok);
  if (!r.ok) return;
  t.strictSame(r.value.stages.map((m) => [m.organization.name, m.organization.provider, Object.keys(m.apps)]), [
    ['acme', 'local', []],
    ['globex', 'aws', ['web']],
  ]);
});

t.test('the bundled example is valid and has what issue 2 asks for', async (t) => {
  const text = readFileSync(new URL('../../examples/setops.yaml', import.meta.url), 'utf8');
  const r = loadDesired(source({ 'setops.yaml': text }));
  t.ok(r.ok, 'valid');
  if (!r.ok) return;
  t.strictSame(r.value.counts, { organizations: 1, projects: 1, stages: 2, apps: 2, services: 3 });
  const prod = stage(r.value.stages, 'production');
  const staging = stage(r.value.stages, 'staging');
  t.equal(prod.organization.provider, 'local');
  t.strictSame([prod.stage.after, prod.stage.approval, prod.stage.protected], ['staging', 'manual', true]);
  t.strictSame(Object.fromEntries(Object.entries(prod.services).map(([k, v]) => [k, v.type])), { cache: 'redis', database: 'postgresql', uploads: 's3' });
  t.equal(prod.apps.web!.public, true);
  t.equal(prod.apps.web!.healthCheck.path, '/healthz');
  t.equal(prod.apps.worker!.public, false);
  t.equal(prod.apps.web!.scale, 3);
  t.ok(prod.apps.web!.resources.memory > staging.apps.web!.resources.memory, 'more memory in production');
  t.strictSame(prod.apps.web!.links.database, { envKey: 'DATABASE_URL' });
  t.equal(staging.apps.web!.workdir, 'app');
  for (const m of r.value.stages) {
    for (const a of Object.values(m.apps)) for (const v of Object.values(a.env)) t.type(v, 'string', 'no secret needed to run');
  }
});

t.test('YAML anchors, aliases and << merge keys inside a document', async (t) => {
  const s = load(
    app(
      'web',
      'healthCheck: &hc\n  path: /healthz\n  interval: 30\nresources:\n  <<: {cpu: 512}\n  memory: 1024\nstages:\n  production:\n    healthCheck: *hc\n    scale: 2',
    ),
  );
  const web = stage(s.stages, 'production').apps.web!;
  t.equal(web.healthCheck.path, '/healthz');
  t.equal(web.healthCheck.interval, 30);
  t.strictSame(web.resources, { cpu: 512, memory: 1024 });
});

t.test('a problem inside a << merged value points at the nearest written node', async (t) => {
  const { issuesOf } = await import('./helpers.js');
  t.strictSame(issuesOf(app('web', 'resources:\n  <<: {cpu: 300}\n  memory: 1024')), [
    'case.yaml:8:5: /spec/resources/cpu: cpu must be a multiple of 128, got 300; e.g. 256 or 384',
  ]);
});
