import t from 'tap';
import { commandWords, setops, shellQuote } from '../../src/reconciler/setops-command.js';
import { appFieldCommand } from '../../src/reconciler/diff-apps.js';
import { serviceFieldCommand, majorVersion } from '../../src/reconciler/diff-services.js';
import { orderChanges, rankOf } from '../../src/reconciler/order.js';
import { makeChange } from '../../src/reconciler/change.js';
import { app } from '../helpers/models.js';

const ref = { organization: 'acme', project: 'shop', stage: 'production' };

t.test('shellQuote', async (t) => {
  const table: [string, string][] = [
    ['plain', 'plain'],
    ['KEY=value', 'KEY=value'],
    ['/healthz', '/healthz'],
    ['200-399', '200-399'],
    ['', "''"],
    ['hello world', "'hello world'"],
    ["it's", "'it'\\''s'"],
    ['$HOME', "'$HOME'"],
    ['a;rm -rf /', "'a;rm -rf /'"],
    ['(secret x)', "'(secret x)'"],
    ['*', "'*'"],
  ];
  for (const [word, quoted] of table) t.equal(shellQuote(word), quoted, JSON.stringify(word));
});

t.test('commands as written: exec form words, shell form through /bin/sh -c', async (t) => {
  t.same(commandWords(['node', 'server.js']), ['node', 'server.js']);
  t.same(commandWords('node server.js && x'), ['/bin/sh', '-c', 'node server.js && x']);
  t.equal(setops(ref, { app: 'web' }, ['container:set', 'command', '--', ...commandWords(['node', 'a b'])]), "setops --project shop --stage production --app web container:set command -- node 'a b'");
});

t.test('app field commands', async (t) => {
  const desired = app({
    image: 'ghcr.io/acme/web:2',
    port: 3000,
    public: true,
    scale: 3,
    resources: { cpu: 512, memory: 1024 },
    healthCheck: { path: '/healthz', status: '200-399', interval: 5, timeout: 10, retries: 3, startPeriod: 15, command: ['curl', '-f', 'localhost'] },
    entrypoint: 'run.sh',
    workdir: 'examples/app',
  });
  const table: [string, string][] = [
    ['image', '--app web release:create ghcr.io/acme/web:2'],
    ['port', '--app web network:set port 3000'],
    ['public', '--app web network:set public true'],
    ['scale', '--app web resource:set scale 3'],
    ['resources.cpu', '--app web resource:set cpu 512'],
    ['resources.memory', '--app web resource:set memory 1024'],
    ['healthCheck.path', '--app web network:set health-check-path /healthz'],
    ['healthCheck.status', '--app web network:set health-check-status 200-399'],
    ['healthCheck.retries', '--app web container:set health-check --interval 5 --timeout 10 --retries 3 --start-period 15 -- curl -f localhost'],
    ['entrypoint', '--app web container:set entrypoint -- /bin/sh -c run.sh'],
    ['command', '--app web container:unset command'],
  ];
  for (const [path, tail] of table) t.equal(appFieldCommand(ref, 'web', path, desired), `setops --project shop --stage production ${tail}`, path);
  t.match(appFieldCommand(ref, 'web', 'workdir', desired), /^# no SetOps equivalent: setopsd app workdir/);
});

t.test('service field commands and versions', async (t) => {
  const table: [string, unknown, string][] = [
    ['version', '17', 'option:set version 17'],
    ['plan', 'db.t3.small.ha', 'option:set plan db.t3.small.ha'],
    ['backup.retentionDays', 14, 'option:set backup_retention_days 14'],
    ['deletionProtection', false, 'option:set deletion_protection false'],
    ['options.extensions', ['pgcrypto', 'postgis'], `option:set extensions '["pgcrypto","postgis"]'`],
    ['options.minStorage', undefined, 'option:unset minStorage'],
  ];
  for (const [path, after, tail] of table) {
    t.equal(serviceFieldCommand(ref, 'database', path, after), `setops --project shop --stage production --service database ${tail}`, path);
  }
  t.same(['16', '16.2', 'v7', '7.0', 'latest', undefined].map(majorVersion), [16, 16, 7, 7, undefined, undefined]);
});

t.test('order: rank, then subject, then path; stable and not mutating', async (t) => {
  const c = (op: 'create' | 'update' | 'replace' | 'delete', subject: string, path?: string) => makeChange({ op, subject, path, command: '' });
  const input = [
    c('delete', 'stage'),
    c('delete', 'service/db'),
    c('delete', 'app/old'),
    c('delete', 'link/web/db'),
    c('create', 'link/web/cache'),
    c('update', 'app/web', 'scale'),
    c('update', 'app/web', 'env.A'),
    c('create', 'app/api'),
    c('create', 'service/cache'),
    c('create', 'notification/ops'),
    c('update', 'stage', 'protected'),
    c('create', 'stage'),
    c('delete', 'notification/old'),
    c('create', 'resource/aws:ecs:Service/web'),
  ];
  const copy = JSON.stringify(input);
  const ordered = orderChanges(input).map((x) => `${x.op} ${x.subject}${x.path ? ' ' + x.path : ''}`);
  t.same(ordered, [
    'create stage',
    'update stage protected',
    'create notification/ops',
    'create service/cache',
    'create app/api',
    'update app/web env.A',
    'update app/web scale',
    'create link/web/cache',
    'delete link/web/db',
    'delete app/old',
    'delete service/db',
    'delete notification/old',
    'delete stage',
    'create resource/aws:ecs:Service/web',
  ]);
  t.equal(JSON.stringify(input), copy);
  t.ok(rankOf(c('create', 'domain/web/a.example.com')) > rankOf(c('create', 'app/web')));
});
