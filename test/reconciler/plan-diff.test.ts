import t from 'tap';
import { plan } from '../../src/reconciler/plan.js';
import { PlanError } from '../../src/errors.js';
import { app, clone, service, stage } from '../helpers/models.js';

const compact = (cs: ReturnType<typeof plan>) => cs.changes.map((c) => `${c.op} ${c.subject}${c.path ? ' ' + c.path : ''}`);

t.test('first deploy: stage, services, apps, links, domains in dependency order', async (t) => {
  const desired = stage({
    apps: { web: app({ links: { database: {} }, domains: { 'shop.example.com': { primary: true } } }) },
    services: { database: service('postgresql', { plan: undefined }) },
  });
  const cs = plan(desired, null);
  t.same(compact(cs), ['create stage', 'create service/database', 'create app/web', 'create domain/web/shop.example.com', 'create link/web/database']);
  t.equal(cs.changes[0]!.command, 'setops --project shop stage:create staging');
  t.equal(cs.changes[1]!.command, 'setops --project shop --stage staging service:create database --type postgresql --version 16');
  t.equal(cs.changes[3]!.command, 'setops --project shop --stage staging --app web domain:create shop.example.com --primary');
  t.equal(cs.changes[4]!.command, 'setops --project shop --stage staging --app web link:create database');
  t.ok(cs.changes.every((c) => c.dataLoss === false));
  t.same(cs.ref, { organization: 'acme', project: 'shop', stage: 'staging' });
});

t.test('field updates: one change per changed leaf with SetOps commands', async (t) => {
  const actual = stage({ apps: { web: app() } });
  const desired = stage({
    apps: {
      web: app({ scale: 3, resources: { cpu: 256, memory: 1024 }, healthCheck: { ...app().healthCheck, path: '/healthz' }, command: 'node server.js', port: 3000 }),
    },
  });
  const cs = plan(desired, actual);
  t.same(cs.changes.map((c) => [c.path, c.before, c.after, c.command]), [
    ['command', undefined, 'node server.js', "setops --project shop --stage staging --app web container:set command -- /bin/sh -c 'node server.js'"],
    ['healthCheck.path', '/', '/healthz', 'setops --project shop --stage staging --app web network:set health-check-path /healthz'],
    ['port', 5000, 3000, 'setops --project shop --stage staging --app web network:set port 3000'],
    ['resources.memory', 512, 1024, 'setops --project shop --stage staging --app web resource:set memory 1024'],
    ['scale', 1, 3, 'setops --project shop --stage staging --app web resource:set scale 3'],
  ]);
  t.ok(cs.changes.every((c) => c.op === 'update' && c.subject === 'app/web'));
  t.notOk('before' in cs.changes[0]!, 'absent before is left out, not undefined');
});

t.test('env: set, unset, secrets masked as (secret NAME)', async (t) => {
  const actual = stage({ apps: { web: app({ env: { OLD: 'x', API_KEY: { secret: 'api-key-v1' }, SAME: 'y' } }) } });
  const desired = stage({ apps: { web: app({ env: { NEW: 'hello world', API_KEY: { secret: 'api-key-v2' }, SAME: 'y' } }) } });
  const cs = plan(desired, actual);
  t.same(cs.changes.map((c) => [c.path, c.before, c.after, c.command]), [
    ['env.API_KEY', '(secret api-key-v1)', '(secret api-key-v2)', "setops --project shop --stage staging --app web env:set --secret API_KEY  # value: secret api-key-v2"],
    ['env.NEW', undefined, 'hello world', "setops --project shop --stage staging --app web env:set 'NEW=hello world'"],
    ['env.OLD', 'x', undefined, 'setops --project shop --stage staging --app web env:unset OLD'],
  ]);
});

t.test('links added and removed; unlink before deleting the service', async (t) => {
  const actual = stage({ apps: { web: app({ links: { old: {} } }) }, services: { old: service('redis') } });
  const desired = stage({ apps: { web: app({ links: { database: { envKey: 'DB_URL' } } }) }, services: { database: service('postgresql') } });
  const cs = plan(desired, actual);
  t.same(compact(cs), ['create service/database', 'create link/web/database', 'delete link/web/old', 'delete service/old']);
  t.equal(cs.changes[1]!.command, 'setops --project shop --stage staging --app web link:create database --env-key DB_URL');
  t.equal(cs.changes[3]!.dataLoss, true);
});

t.test('replace: app protocol, service type (data loss)', async (t) => {
  const actual = stage({ apps: { web: app() }, services: { db: service('postgresql') } });
  const desired = stage({ apps: { web: app({ protocol: 'tcp', scale: 2 }) }, services: { db: service('redis') } });
  const cs = plan(desired, actual);
  t.same(compact(cs), ['replace service/db type', 'replace app/web protocol']);
  t.equal(cs.changes[0]!.dataLoss, true);
  t.equal(cs.changes[0]!.reason, 'type cannot change in place');
  t.equal(cs.changes[1]!.dataLoss, false);
  t.match(cs.changes[1]!.command, /app:destroy web && setops .* app:create web$/);
});

t.test('service major-version downgrade is refused; upgrade is an update', async (t) => {
  const actual = stage({ services: { database: service('postgresql', { version: '16' }) } });
  let caught: unknown;
  try {
    plan(stage({ services: { database: service('postgresql', { version: '15' }) } }), actual);
  } catch (err) {
    caught = err;
  }
  t.ok(caught instanceof PlanError, 'throws a PlanError');
  t.match(caught, { code: 'E_VERSION_DOWNGRADE', message: /^service\/database in acme\/shop\/staging: version 16 → 15 is a major-version downgrade/ });
  const up = plan(stage({ services: { database: service('postgresql', { version: '17' }) } }), actual);
  t.same(compact(up), ['update service/database version']);
  t.equal(up.changes[0]!.command, 'setops --project shop --stage staging --service database option:set version 17');
  t.same(compact(plan(stage({ services: { database: service('postgresql', { version: '16.1' }) } }), stage({ services: { database: service('postgresql', { version: '16.4' }) } }))), [
    'update service/database version',
  ], 'a minor downgrade is not refused');
});

t.test('stage removed: apps, then services with data loss, then the stage', async (t) => {
  const actual = stage({ apps: { web: app({ links: { db: {} } }) }, services: { db: service('postgresql'), files: service('s3') } });
  const cs = plan(null, actual);
  t.same(compact(cs), ['delete app/web', 'delete service/db', 'delete service/files', 'delete stage']);
  t.same(cs.changes.map((c) => c.dataLoss), [false, true, true, true]);
  t.equal(cs.changes[3]!.command, 'setops --project shop stage:destroy staging --force');
});

t.test('stage replace on provider change', async (t) => {
  const actual = stage({ services: { db: service('postgresql') } });
  const desired = clone(actual);
  desired.organization = { name: 'acme', provider: 'aws', aws: { region: 'eu-central-1' } };
  const cs = plan(desired, actual);
  t.same(compact(cs), ['replace stage organization.provider', 'create service/db']);
  t.equal(cs.changes[0]!.dataLoss, true);
});

t.test('stage settings and notifications', async (t) => {
  const actual = stage();
  actual.stage.notifications = { ops: { type: 'email', target: 'ops@acme.dev' }, hook: { type: 'webhook', target: 'https://a.example/x' } };
  const desired = clone(actual);
  desired.stage.protected = true;
  desired.stage.after = 'testing';
  delete desired.stage.notifications.hook;
  desired.stage.notifications.ops!.target = 'oncall@acme.dev';
  const cs = plan(desired, actual);
  t.same(compact(cs), ['update stage after', 'update stage protected', 'update notification/ops target', 'delete notification/hook']);
  t.match(cs.changes[0]!.command, /^# no SetOps equivalent/);
});

t.test('inputs are not mutated and key order does not matter', async (t) => {
  const actual = stage({ apps: { web: app({ env: { B: '1', A: '2' } }) } });
  const desired = stage({ apps: { web: app({ env: { A: '3', B: '1' }, scale: 2 }) } });
  const before = JSON.stringify([desired, actual]);
  const one = plan(desired, actual);
  t.equal(JSON.stringify([desired, actual]), before);
  const reordered = JSON.parse(JSON.stringify(desired), (_k, v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v));
  t.same(plan(reordered, actual), one);
});
