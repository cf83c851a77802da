/**
 * Schedules in manifests and plans: `App.spec.schedules` is validated with located errors (a cron
 * expression croner rejects or without five fields, an unknown time zone, a name used twice),
 * per-stage overrides apply to it, and the plan shows schedule creates, updates and deletes as
 * `schedule/APP/NAME` lines whose command says SetOps has no equivalent.
 */
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/deps.js';
import { tempDir } from '../helpers/temp.js';
import { app, stage } from '../helpers/models.js';
import { plan } from '../../src/reconciler/plan.js';

const HEAD = [
  'apiVersion: setopsd/v1\nkind: Organization\nmetadata: { name: acme }\nspec: { provider: local }',
  'apiVersion: setopsd/v1\nkind: Project\nmetadata: { name: shop }',
  'apiVersion: setopsd/v1\nkind: Stage\nmetadata: { name: staging, project: shop }',
  'apiVersion: setopsd/v1\nkind: Stage\nmetadata: { name: production, project: shop }',
].join('\n---\n');

async function manifests(t: Parameters<typeof tempDir>[0], appSpec: string): Promise<string> {
  const dir = tempDir(t, 'setopsd-schedules-');
  await writeFile(join(dir, 'setops.yaml'), `${HEAD}\n---\napiVersion: setopsd/v1\nkind: App\nmetadata: { name: web, project: shop }\nspec:\n  command: node server.js\n${appSpec}`);
  return dir;
}

t.test('invalid cron expressions and time zones are validation errors at the field', async (t) => {
  const dir = await manifests(
    t,
    [
      '  schedules:',
      '    - { name: cleanup, cron: "61 * * * *", command: node cleanup.js }',
      '    - { name: report, cron: "0 3 * *", command: [node, report.js] }',
      '    - { name: digest, cron: "0 8 * * 1-5", command: node digest.js, timezone: Mars/Olympus }',
      '',
    ].join('\n'),
  );
  const r = await runCli(['validate', dir]);
  t.equal(r.code, 1);
  t.match(r.stderr, /setops\.yaml:24:30: \/spec\/schedules\/0\/cron: cron must be a cron expression of five fields \(minute hour day-of-month month day-of-week\) such as "\*\/15 \* \* \* \*" \(invalid value for minute: 61\), got "61 \* \* \* \*"/);
  t.match(r.stderr, /setops\.yaml:25:29: \/spec\/schedules\/1\/cron: .*\(it has 4 fields\)/);
  t.match(r.stderr, /setops\.yaml:26:79: \/spec\/schedules\/2\/timezone: timezone must be an IANA time zone such as Europe\/Berlin or UTC, got "Mars\/Olympus"/);
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

t.test('a schedule name used twice in an app is an error at the second one', async (t) => {
  const dir = await manifests(t, ['  schedules:', '    - { name: cleanup, cron: "*/15 * * * *", command: node a.js }', '    - { name: cleanup, cron: "0 * * * *", command: node b.js }', ''].join('\n'));
  const r = await runCli(['validate', dir]);
  t.equal(r.code, 1);
  t.match(r.stderr, /setops\.yaml:25:\d+: \/spec\/schedules\/1\/name: schedule "cleanup" is defined twice for app "web"; names must be unique/);
});

t.test('a valid schedule with a per-stage override validates', async (t) => {
  const dir = await manifests(t, ['  schedules: [ { name: cleanup, cron: "*/15 * * * *", command: node cleanup.js, timezone: Europe/Berlin, timeout: 600 } ]', '  stages:', '    production: { schedules: [ { name: cleanup, cron: "0 * * * *", command: node cleanup.js } ] }', ''].join('\n'));
  const r = await runCli(['validate', dir]);
  t.equal(r.code, 0, r.stderr);
  const p = await runCli(['plan', dir, '--format', 'json', '--state-dir', tempDir(t)]);
  const doc = JSON.parse(p.stdout);
  const lines = (stage: string) => doc.stages.find((s: { stage: string }) => s.stage === stage).changes.filter((c: { subject: string }) => c.subject.startsWith('schedule/'));
  t.match(lines('staging'), [{ op: 'create', subject: 'schedule/web/cleanup', command: '# no SetOps equivalent: setopsd schedule cleanup of app web: "*/15 * * * *" (Europe/Berlin) runs node cleanup.js' }]);
  t.match(lines('production'), [{ op: 'create', subject: 'schedule/web/cleanup', command: /"0 \* \* \* \*" runs node cleanup\.js$/ }]);
});

t.test('the plan shows schedule creates, updates and deletes after their app', async (t) => {
  const before = stage({ apps: { web: app({ command: 'node server.js', schedules: { cleanup: { cron: '*/15 * * * *', command: 'node cleanup.js' }, old: { cron: '0 0 * * *', command: ['node', 'old.js'] } } }) } });
  const after = stage({ apps: { web: app({ command: 'node server.js', scale: 2, schedules: { cleanup: { cron: '0 * * * *', command: 'node cleanup.js', timeout: 60 }, report: { cron: '0 3 * * 1', command: ['node', 'report.js'] } } }) } });
  const changes = plan(after, before).changes.map((c) => `${c.op} ${c.subject}${c.path ? ' ' + c.path : ''} | ${c.command}`);
  t.same(changes, [
    'update app/web scale | setops --project shop --stage staging --app web resource:set scale 2',
    'update schedule/web/cleanup cron | # no SetOps equivalent: setopsd schedule cleanup of app web: "0 * * * *" runs node cleanup.js',
    'update schedule/web/cleanup timeout | # no SetOps equivalent: setopsd schedule cleanup of app web: "0 * * * *" runs node cleanup.js',
    'create schedule/web/report | # no SetOps equivalent: setopsd schedule report of app web: "0 3 * * 1" runs node report.js',
    'delete schedule/web/old | # no SetOps equivalent: setopsd schedule old of app web is removed',
  ]);
  t.same(plan(after, after).changes, [], 'in sync: no changes');
  const noSchedules = stage({ apps: { web: app({ command: 'node server.js' }) } });
  t.equal(JSON.stringify(noSchedules).includes('schedules'), false, 'an app without schedules has no schedules field (its model hash is unchanged)');
});

t.test('an AWS stage: the plan notes the schedules without timeout, which ECS never stops; a timeout is enforced and needs no note', async (t) => {
  const { planStage } = await import('../../src/reconciler/stage-plan.js');
  const withSchedules = stage({
    apps: {
      web: app({ schedules: { cleanup: { cron: '*/15 * * * *', command: 'node cleanup.js', timeout: 600 }, digest: { cron: '0 7 * * *', command: 'node digest.js' } } }),
      worker: app({ schedules: { report: { cron: '0 6 * * *', command: ['node', 'report.js'] } } }),
    },
  });
  const actual = { model: null, serial: null };
  t.same(planStage(withSchedules, actual, 'pulumi').notes, [
    'schedule/web/digest, schedule/worker/report: no timeout, so on AWS a run is never stopped (ECS tasks have no time limit; the local engine stops it after 3600 s); set timeout to have it stopped after that many seconds',
  ], 'schedule/web/cleanup has a timeout: its state machine stops it');
  const allTimed = stage({ apps: { web: app({ schedules: { cleanup: { cron: '*/15 * * * *', command: 'node cleanup.js', timeout: 600 } } }) } });
  t.same(planStage(allTimed, actual, 'pulumi').notes, [], 'every schedule has a timeout: nothing is left unenforced');
  t.same(planStage(withSchedules, actual, 'local').notes, [], 'the local engine stops every run at its timeout');
  t.same(planStage(stage({ apps: { web: app() } }), actual, 'pulumi').notes, [], 'no schedules, no note');
});

t.test('the plan of an AWS stage renders its schedule lines and notes only the schedule without timeout (text and markdown)', async (t) => {
  const dir = tempDir(t, 'setopsd-aws-schedules-');
  const org = 'apiVersion: setopsd/v1\nkind: Organization\nmetadata: { name: acme }\nspec: { provider: aws, aws: { region: eu-central-1, accountId: "123456789012" } }';
  const rest = HEAD.split('\n---\n').slice(1, 3).join('\n---\n');
  const appDoc = [
    'apiVersion: setopsd/v1\nkind: App\nmetadata: { name: web, project: shop }\nspec:\n  image: ghcr.io/acme/web:1.4.2',
    '  schedules:',
    '    - { name: cleanup, cron: "*/15 * * * *", command: node cleanup.js, timeout: 600 }',
    '    - { name: report, cron: "0 6 * * 1-5", command: [node, report.js], timezone: Europe/Berlin }',
    '',
  ].join('\n');
  await writeFile(join(dir, 'setops.yaml'), `${org}\n---\n${rest}\n---\n${appDoc}`);
  // No Pulumi CLI on PATH: the resource preview is skipped with a note, the rest of the plan is the model's.
  const env = { PATH: join(dir, 'no-bin') };
  const stateDir = tempDir(t);
  const text = await runCli(['plan', dir, '--state-dir', stateDir], { env });
  t.equal(text.code, 0, text.stderr);
  t.match(text.stdout, /\n {2}\+ schedule\/web\/cleanup \("\*\/15 \* \* \* \*": "node cleanup\.js"\)\n {2}\+ schedule\/web\/report \("0 6 \* \* 1-5" Europe\/Berlin: \["node","report\.js"\]\)\n/);
  const notes = text.stdout.split('\n').filter((l) => l.includes('note: schedule/'));
  t.same(notes, ['  note: schedule/web/report: no timeout, so on AWS a run is never stopped (ECS tasks have no time limit; the local engine stops it after 3600 s); set timeout to have it stopped after that many seconds']);
  const md = await runCli(['plan', dir, '--state-dir', stateDir, '--format', 'markdown'], { env });
  t.equal(md.code, 0, md.stderr);
  t.match(md.stdout, /schedule\/web\/cleanup/);
  t.match(md.stdout, /schedule\/web\/report: no timeout, so on AWS a run is never stopped/);
  t.notMatch(md.stdout, /schedule\/web\/cleanup[^\n]*no timeout/, 'the schedule with a timeout gets no note');
});
