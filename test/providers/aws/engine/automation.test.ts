import t, { type Test } from 'tap';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { PulumiCommand } from '@pulumi/pulumi/automation/index.js';
import { canonicalJson } from '../../../../src/model/canonical.js';
import type { OrganizationModel, StageModel } from '../../../../src/model/stage-model.js';
import { createPulumiEngine } from '../../../../src/providers/aws/index.js';
import { translateEvents } from '../../../../src/providers/aws/engine/events/translate.js';
import { testDeps } from '../../../helpers/deps.js';
import { writeStackCheckpoint } from './checkpoint-file.js';
import { app, stage } from '../../../helpers/models.js';
import { fakeRoot, fakeStack, org, ref, words, type Call, type Rule } from './fake-stack.js';
import { tempDir } from '../../../helpers/temp.js';
import { waitFor } from '../../../helpers/wait.js';
import { parseEventStream } from './event-stream.js';

const here = dirname(fileURLToPath(import.meta.url));
const streams = join(here, '../../../fixtures/pulumi/pkg');
const display = (f: string): string => join(streams, 'backend/display/testdata/not-truncated', f);
const lifecycle = (f: string): string => join(streams, 'engine/lifecycletest/testdata/output', f, 'eventstream.json');

const model = stage({ name: ref.stage, organization: org });

/**
 * The fake stack of fake-stack.ts scripted with `rules`, for deployment #7 of a commit; its calls
 * with the Automation API's random port and event-log path replaced by placeholders.
 */
async function setup(t: Test, rules: Rule[], opts: { env?: Record<string, string | undefined>; organization?: OrganizationModel } = {}) {
  const s = await fakeStack(t, { ...opts, deployment: { number: 7, commit: '0123456789abcdef0123', trigger: 'manual' } });
  s.script(rules);
  const calls = (): Call[] =>
    s.calls().map((c) => ({
      ...c,
      argv: c.argv.map((a) => a.replace(/^--client=127\.0\.0\.1:\d+$/, '--client=<port>').replace(/^.*automation-logs-.*eventlog\.txt$/, '<event-log>')),
    }));
  return { ...s, calls };
}

t.test('apply runs `pulumi up` in the stage work dir with the backend, passphrase and region', async (t) => {
  const s = await setup(t, [{ when: 'up', events: display('up-3.json') }]);
  const result = await s.engine.apply(model, { ref, changes: [] }, s.io());
  t.equal(result.status, 'succeeded', result.error?.message ?? 'succeeded');
  t.same(result.summary, { 'resources.create': 6 }, 'Pulumi resource counts, apart from the changeset counts');
  t.same(
    result.applied.map((c) => `${c.op} ${c.subject}`),
    translateEvents(parseEventStream(readFileSync(display('up-3.json'), 'utf8'))).changes.map((c) => `${c.op} ${c.subject}`),
  );
  t.ok(s.progress.some((p) => p.status === 'succeeded' && p.message === 'created'), 'progress from engine events');
  const calls = s.calls();
  t.same(calls.map(words), ['stack select', 'config set aws:region', 'up', 'stack output', 'stack output', 'stack history']);
  t.same(calls[0]!.argv, ['stack', 'select', '--stack', 'production', '--non-interactive']);
  t.same(calls[1]!.argv, ['config', 'set', 'aws:region', '--stack', 'production', '--plaintext', '--non-interactive', '--', 'eu-central-1']);
  t.same(calls[2]!.argv, [
    'up', '--yes', '--skip-preview', '--message', 'setopsd deployment #7 of 0123456789ab (manual)',
    '--client=<port>', '--exec-kind', 'auto.inline', '--event-log', '<event-log>', '--stack', 'production', '--non-interactive',
  ]);
  for (const c of calls) {
    t.equal(c.cwd, s.workDir);
    t.equal(c.env.PULUMI_BACKEND_URL, `file://${s.backendRoot}`);
    t.equal(c.env.PULUMI_CONFIG_PASSPHRASE, 'test-passphrase');
    t.equal(c.env.PULUMI_SKIP_UPDATE_CHECK, 'true');
  }
  const project = readFileSync(join(s.workDir, 'Pulumi.yaml'), 'utf8');
  t.match(project, /name: setops-acme-shop/);
  t.match(project, new RegExp(`url: file://${s.backendRoot}`));
  t.ok(existsSync(s.backendRoot), 'the file backend directory is created');
});

t.test('a new stage: the stack is created with the passphrase secrets provider', async (t) => {
  const s = await setup(t, [{ when: 'stack select', stderr: "error: no stack named 'production' found\n", exit: 255 }, { when: 'up' }]);
  const result = await s.engine.apply(model, { ref, changes: [] }, s.io());
  t.equal(result.status, 'succeeded', result.error?.message ?? 'succeeded');
  const init = s.calls().find((c) => words(c).startsWith('stack init'));
  t.same(init?.argv, ['stack', 'init', 'production', '--secrets-provider', 'passphrase', '--non-interactive']);
});

t.test('PULUMI_CONFIG_PASSPHRASE_FILE is passed on; neither set is a clear error before any CLI call', async (t) => {
  const s = await setup(t, [{ when: 'up' }], { env: { PULUMI_CONFIG_PASSPHRASE: undefined, PULUMI_CONFIG_PASSPHRASE_FILE: fileURLToPath(import.meta.url) } });
  t.equal((await s.engine.apply(model, { ref, changes: [] }, s.io())).status, 'succeeded');
  const up = s.calls().find((c) => words(c) === 'up')!;
  t.equal(up.env.PULUMI_CONFIG_PASSPHRASE_FILE, fileURLToPath(import.meta.url));

  const none = await setup(t, [{ when: 'up' }], { env: { PULUMI_CONFIG_PASSPHRASE: undefined } });
  const result = await none.engine.apply(model, { ref, changes: [] }, none.io());
  t.equal(result.status, 'failed');
  t.match(result.error, {
    code: 'E_PULUMI_PASSPHRASE_MISSING',
    message: /^stage acme\/shop\/production: the Pulumi stack's secrets are encrypted with a passphrase, but neither PULUMI_CONFIG_PASSPHRASE nor PULUMI_CONFIG_PASSPHRASE_FILE is set/,
  });
  t.same(none.calls(), [], 'no CLI call without a passphrase');

  const missingFile = await setup(t, [], { env: { PULUMI_CONFIG_PASSPHRASE: undefined, PULUMI_CONFIG_PASSPHRASE_FILE: '/nonexistent/passphrase' } });
  await t.rejects(missingFile.engine.preview!(model, { model: null, serial: null }), { message: /PULUMI_CONFIG_PASSPHRASE_FILE names \/nonexistent\/passphrase, which cannot be read/ });

  const cloud = await setup(t, [{ when: 'up' }], { env: { PULUMI_CONFIG_PASSPHRASE: undefined }, organization: { ...org, backend: 'https://api.pulumi.com' } });
  t.equal((await cloud.engine.apply(model, { ref, changes: [] }, cloud.io())).status, 'succeeded', 'Pulumi Cloud needs no passphrase');
  t.equal(cloud.calls()[0]!.env.PULUMI_BACKEND_URL, 'https://api.pulumi.com');
});

t.test('preview turns the engine events into resource plan lines', async (t) => {
  const s = await setup(t, [{ when: 'preview', events: display('webserver-userdata.json') }]);
  const plan = await s.engine.preview!(model, { model: null, serial: null });
  t.same(plan.changes, translateEvents(parseEventStream(readFileSync(display('webserver-userdata.json'), 'utf8'))).changes);
  t.equal(plan.changes[0]!.op, 'replace');
  const preview = s.calls().find((c) => words(c) === 'preview')!;
  t.same(preview.argv, ['preview', '--client=<port>', '--exec-kind', 'auto.inline', '--event-log', '<event-log>', '--stack', 'production', '--non-interactive']);
});

t.test('a preview of a stage without a stack leaves no stack behind', async (t) => {
  const s = await setup(t, [{ when: 'stack select', stderr: "error: no stack named 'production' found\n", exit: 255 }, { when: 'preview', events: display('up-3.json') }]);
  const plan = await s.engine.preview!(model, { model: null, serial: null });
  t.ok(plan.changes.length > 0, 'the preview ran');
  const w = s.calls().map((c) => c.argv.join(' '));
  const at = (prefix: string): number => w.findIndex((c) => c.startsWith(prefix));
  t.ok(at('stack init production') >= 0, 'Pulumi previews a stack only: one is made for the preview');
  t.ok(at('stack rm --yes production') > at('preview'), 'and removed after it');
  // An existing stack is previewed as it is.
  const existing = await setup(t, [{ when: 'preview', events: display('up-3.json') }]);
  await existing.engine.preview!(model, { model: null, serial: null });
  t.notOk(existing.calls().some((c) => c.argv.join(' ').startsWith('stack init') || c.argv.join(' ').startsWith('stack rm')), 'no stack made or removed');
});

t.test('apply with refresh runs `pulumi up --refresh`; without, no refresh', async (t) => {
  const s = await setup(t, [{ when: 'up' }]);
  t.equal((await s.engine.apply(model, { ref, changes: [] }, { ...s.io(), refresh: true })).status, 'succeeded');
  t.ok(s.calls().find((c) => words(c) === 'up')!.argv.includes('--refresh'), 'up --refresh');
  const plain = await setup(t, [{ when: 'up' }]);
  await plain.engine.apply(model, { ref, changes: [] }, plain.io());
  t.notOk(plain.calls().find((c) => words(c) === 'up')!.argv.includes('--refresh'));
});

t.test('a locked stack is a LockedError naming the holder; a dead holder gets the command to clear it', async (t) => {
  const lockText =
    'error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.\n';
  const s = await setup(t, [{ when: 'up', stderr: lockText, exit: 255 }]);
  const lockDir = join(s.backendRoot, '.pulumi/locks/organization/setops-acme-shop/production');
  mkdirSync(lockDir, { recursive: true });
  const lockFile = join(lockDir, '6f1c5a0e.json');
  writeFileSync(lockFile, JSON.stringify({ pid: 999999, username: 'ci', hostname: 'build-host', timestamp: '2026-01-01T10:00:00Z' }));
  const result = await s.engine.apply(model, { ref, changes: [] }, s.io());
  t.equal(result.status, 'failed');
  t.equal(result.error?.code, 'E_LOCKED');
  t.equal(result.error?.name, 'LockedError');
  t.equal(
    result.error?.message,
    'stage acme/shop/production: the Pulumi stack setops-acme-shop/production is locked by ci@build-host (pid 999999, since 2026-01-01T10:00:00Z); ' +
      'that process no longer runs on this host, so the lock was left by a crashed or killed run. Check that no other pulumi operation runs for this stack, ' +
      `then clear it with: PULUMI_BACKEND_URL='file://${s.backendRoot}' pulumi cancel --yes --stack organization/setops-acme-shop/production --cwd '${s.workDir}' ` +
      `(or remove ${lockFile})`,
  );
  t.ok(existsSync(lockFile), 'the lock is never cleared by setopsd');

  writeFileSync(lockFile, JSON.stringify({ pid: process.pid, username: 'ci', hostname: 'build-host', timestamp: '2026-01-01T10:00:00Z' }));
  const live = await s.engine.apply(model, { ref, changes: [] }, s.io());
  t.match(live.error?.message, /is locked by ci@build-host \(pid \d+, since 2026-01-01T10:00:00Z\); wait for that run to finish and retry$/);

  const other = await setup(t, [{ when: 'up', stderr: lockText, exit: 255 }]);
  const r = await other.engine.apply(model, { ref, changes: [] }, other.io());
  t.match(r.error, { code: 'E_LOCKED', message: /locked by another update; wait for it to finish, or if none runs, clear the lock with: PULUMI_BACKEND_URL=.* pulumi cancel --yes/ });
});

t.test('a failed update: failed result with the diagnostics tail, never the whole output', async (t) => {
  const s = await setup(t, [
    {
      when: 'up',
      events: lifecycle('TestErrorHooks_NoRetryIfAllHooksReturnFalse_Update/1'),
      stdout: 'Updating (production)\n' + 'noise line\n'.repeat(200) + 'PLAINTEXT-STDOUT-MARKER\n',
      stderr: 'error: update failed\n',
      exit: 255,
    },
  ]);
  const result = await s.engine.apply(model, { ref, changes: [] }, s.io());
  t.equal(result.status, 'failed');
  t.equal(result.error?.code, 'E_PULUMI_UP_FAILED');
  t.equal(result.error?.message, 'stage acme/shop/production: pulumi up failed: update failed');
  t.equal(result.error?.data.tail, 'resource/pkgA:m:typA/resA: update failed');
  t.notMatch(JSON.stringify({ message: result.error?.message, data: result.error?.data }), /PLAINTEXT-STDOUT-MARKER|noise line/);
  t.same(result.applied, []);
  t.same(result.actual, { model: null, serial: null });
  t.ok(s.progress.some((p) => p.status === 'failed'), 'the failed step reached progress');
});

t.test('an interrupted update reports its pending operations with the recovery commands', async (t) => {
  const s = await setup(t, [{ when: 'up', events: display('up-interrupted.json'), stderr: 'error: interrupted\n', exit: 255 }]);
  const result = await s.engine.apply(model, { ref, changes: [] }, s.io());
  t.equal(result.status, 'failed');
  t.equal(result.error?.code, 'E_PULUMI_PENDING_OPERATIONS');
  t.match(result.error?.message, /^stage acme\/shop\/production: an interrupted Pulumi run left 3 pending operation\(s\)/);
  t.match(result.error?.message, /pulumi refresh --yes --stack organization\/setops-acme-shop\/production --cwd '.*' --clear-pending-creates/);
  t.match(result.error?.message, /interrupted updates and deletes clear with/);
  t.same(result.applied.map((c) => c.subject), ['resource/aws:s3/bucket:Bucket/completed-bucket']);
});

t.test('a successful up of a stack with a component resource is a success: Pulumi says so, the checkpoint has nothing pending', async (t) => {
  const dir = tempDir(t, 'setopsd-component-');
  const stream = join(dir, 'events.ndjson');
  const stackUrn = 'urn:pulumi:production::setops-acme-shop::pulumi:pulumi:Stack::setops-acme-shop-production';
  const comp = 'urn:pulumi:production::setops-acme-shop::setops:x:Web::web';
  const child = 'urn:pulumi:production::setops-acme-shop::setops:x:Web$aws:s3/bucket:Bucket::web-assets';
  const m = (op: string, urn: string, type: string) => ({ metadata: { op, urn, type } });
  writeFileSync(
    stream,
    [
      { sequence: 1, resourcePreEvent: m('same', stackUrn, 'pulumi:pulumi:Stack') },
      // The component's step never reports outputs: start/finish bookkeeping alone would call it pending.
      { sequence: 2, resourcePreEvent: m('create', comp, 'setops:x:Web') },
      { sequence: 3, resourcePreEvent: m('create', child, 'aws:s3/bucket:Bucket') },
      { sequence: 4, resOutputsEvent: m('create', child, 'aws:s3/bucket:Bucket') },
      { sequence: 5, resOutputsEvent: m('same', stackUrn, 'pulumi:pulumi:Stack') },
      { sequence: 6, summaryEvent: { maybeCorrupt: false, durationSeconds: 2, resourceChanges: { create: 2, same: 1 }, PolicyPacks: {} } },
    ]
      .map((e) => JSON.stringify(e))
      .join('\n') + '\n',
  );
  const s = await setup(t, [{ when: 'up', events: stream }]);
  writeStackCheckpoint(s.backendRoot, ref, model);
  const result = await s.engine.apply(model, { ref, changes: [] }, s.io());
  t.equal(result.status, 'succeeded', result.error?.message ?? 'succeeded');
  t.notOk(result.error, 'no E_PULUMI_PENDING_OPERATIONS');
  t.same(result.applied.map((c) => c.subject).sort(), ['resource/aws:s3/bucket:Bucket/web-assets', 'resource/setops:x:Web/web']);
});

t.test('pending operations recorded in the state stop an apply before `pulumi up`', async (t) => {
  const s = await setup(t, [{ when: 'up' }]);
  writeStackCheckpoint(s.backendRoot, ref, model, {
    pending_operations: [{ resource: { urn: 'urn:pulumi:production::setops-acme-shop::aws:s3/bucket:Bucket::data', type: 'aws:s3/bucket:Bucket' }, type: 'creating' }],
  });
  const result = await s.engine.apply(model, { ref, changes: [] }, s.io());
  t.equal(result.status, 'failed');
  t.match(result.error, {
    code: 'E_PULUMI_PENDING_OPERATIONS',
    message: /left 1 pending operation\(s\): urn:pulumi:production::setops-acme-shop::aws:s3\/bucket:Bucket::data \(creating\)\. check these resources in the AWS console; for creates that did not happen run `PULUMI_BACKEND_URL=.*--clear-pending-creates`, for creates that did run `.*--import-pending-creates 'urn:pulumi:production::setops-acme-shop::aws:s3\/bucket:Bucket::data' --import-pending-creates <its AWS id>` \(one URN\/id pair per resource\); then run setopsd apply again$/,
  });
  t.same(result.actual.model, model);
  t.same(s.calls(), [], 'pulumi up never ran');
});

t.test('cancel through the AbortSignal: the CLI gets SIGINT and the result is a CanceledError', async (t) => {
  const s = await setup(t, [{ when: 'up', hang: true }]);
  const ac = new AbortController();
  const running = s.engine.apply(model, { ref, changes: [] }, s.io(ac.signal));
  // Wait until the fake CLI is really running `up`.
  await waitFor('the fake CLI to run up', () => existsSync(join(s.fakeDir, 'hanging')), { timeoutMs: 20_000 });
  ac.abort();
  const result = await running;
  t.equal(result.status, 'failed');
  t.equal(result.error?.code, 'E_CANCELED');
  t.match(result.error?.message, /^stage acme\/shop\/production: pulumi up canceled/);
});

t.test('destroy: a missing stack is nothing to destroy; an existing one is destroyed', async (t) => {
  const missing = await setup(t, [{ when: 'stack select', stderr: "error: no stack named 'production' found\n", exit: 255 }]);
  const none = await missing.engine.destroy(ref, missing.io());
  t.same(none, { status: 'succeeded', applied: [], actual: { model: null, serial: null } });
  t.same(missing.calls().map(words), ['stack select']);

  const s = await setup(t, [{ when: 'destroy', events: display('destroy-with-custom-resource-parent.json') }]);
  const result = await s.engine.destroy(ref, s.io());
  t.equal(result.status, 'succeeded', result.error?.message ?? 'succeeded');
  t.same(result.applied.map((c) => `${c.op} ${c.subject}`), ['delete resource/aws:s3/bucketObject:BucketObject/myobject', 'delete resource/aws:s3/bucket:Bucket/mybucket']);
  const destroy = s.calls().find((c) => words(c) === 'destroy')!;
  t.same(destroy.argv.slice(0, 2), ['destroy', '--yes']);
  t.ok(destroy.argv.includes('--event-log'));
});

t.test('refresh runs `pulumi refresh --preview-only`, reads the stage again and returns the drift it found', async (t) => {
  const s = await setup(t, [{ when: 'refresh', events: lifecycle('TestRefreshBasics/3-0-0') }]);
  const refreshed = await s.engine.refresh!(ref);
  t.same({ model: refreshed.model, serial: refreshed.serial }, { model: null, serial: null });
  t.same(refreshed.drift?.map((c) => [c.op, c.subject, c.reason]), [['delete', 'resource/pkgA:m:typA/resC', 'deleted outside Pulumi (2 state entries)']]);
  const refresh = s.calls().find((c) => words(c) === 'refresh')!;
  t.same(refresh.argv.slice(0, 2), ['refresh', '--preview-only'], 'read-only: a drift check never changes the stack');
});

t.test('read from a non-file backend uses `stack export` without --show-secrets', async (t) => {
  const deployment = {
    version: 3,
    deployment: {
      manifest: { time: '2026-01-01T00:00:00Z', magic: 'm', version: 'v3.200.0' },
      resources: [{ urn: 'urn:pulumi:production::setops-acme-shop::pulumi:pulumi:Stack::x', type: 'pulumi:pulumi:Stack', custom: false, outputs: { setopsdStageModel: canonicalJson(model) } }],
    },
  };
  const s = await setup(t, [{ when: 'stack export', stdout: JSON.stringify(deployment) }], { organization: { ...org, backend: 's3://state-bucket/setopsd' } });
  const state = await s.engine.read(ref);
  t.same(state.model, model);
  t.match(state.serial, /^sha256:/);
  const exp = s.calls().find((c) => words(c) === 'stack export')!;
  t.same(exp.argv, ['stack', 'export', '--stack', 'production', '--non-interactive']);
  t.equal(exp.env.PULUMI_BACKEND_URL, 's3://state-bucket/setopsd');

  const gone = await setup(t, [{ when: 'stack select', stderr: "error: no stack named 'production' found\n", exit: 255 }], { organization: { ...org, backend: 's3://state-bucket/setopsd' } });
  t.same(await gone.engine.read(ref), { model: null, serial: null }, 'StackNotFoundError reads as nothing deployed');
});

t.test('without a program option the AWS program is loaded; a model it cannot build fails with the program error', async (t) => {
  const stateDir = tempDir(t, 'setopsd-prog-');
  const deps = testDeps({ env: { PULUMI_CONFIG_PASSPHRASE: 'x', PATH: process.env.PATH }, cwd: stateDir });
  const pulumiCommand = await PulumiCommand.get({ root: fakeRoot, skipVersionCheck: true });
  const engine = createPulumiEngine({ stateDir, deps, organization: org }, { pulumiCommand });
  const broken = stage({ name: ref.stage, organization: org, apps: { web: app() } }); // no image
  await t.rejects(engine.preview!(broken, { model: null, serial: null }), { code: 'E_AWS_PROGRAM', message: /image is required on AWS/ });
  const result = await engine.apply(broken, { ref, changes: [] }, {
    signal: new AbortController().signal, log: pino({ level: 'silent' }), progress: () => {}, allowDataLoss: false,
    secrets: { get: async () => '' }, configRoot: stateDir, deployment: { number: 1, commit: null, trigger: 'test' },
  });
  t.equal(result.status, 'failed');
  t.equal(result.error?.code, 'E_AWS_PROGRAM');
});

t.test('with the AWS program, the aws resource plugin matching @pulumi/aws is installed before a preview', async (t) => {
  const s = await setup(t, [{ when: 'preview' }]);
  const stateDir = s.stateDir;
  const pulumiCommand = await PulumiCommand.get({ root: fakeRoot, skipVersionCheck: true });
  const deps = testDeps({ env: { FAKE_PULUMI_DIR: s.fakeDir, PULUMI_CONFIG_PASSPHRASE: 'x', PATH: process.env.PATH }, cwd: stateDir });
  const engine = createPulumiEngine({ stateDir, deps, organization: org }, { pulumiCommand });
  await engine.preview!(model, { model: null, serial: null });
  const { version } = JSON.parse(readFileSync(join(here, '../../../../node_modules/@pulumi/aws/package.json'), 'utf8')) as { version: string };
  const install = s.calls().find((c) => words(c).startsWith('plugin install'));
  t.same(install?.argv, ['plugin', 'install', 'resource', 'aws', `v${version}`, '--non-interactive']);
  t.same(s.calls().map(words).map((w) => w.split(' ').slice(0, 2).join(' ')), ['stack select', 'config set', 'plugin install', 'preview']);
});

t.test('a locked stack on an s3 backend: the holder comes from the message Pulumi prints', async (t) => {
  const lockUrl = 's3://state-bucket/setopsd/.pulumi/locks/organization/setops-acme-shop/production/0b7c.json';
  const stderr =
    'error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.\n' +
    `  ${lockUrl}: created by ci@build-host (pid 999999) at 2026-01-01T10:00:00Z\n`;
  const s = await setup(t, [{ when: 'up', stderr, exit: 255 }], { organization: { ...org, backend: 's3://state-bucket/setopsd' } });
  const result = await s.engine.apply(model, { ref, changes: [] }, s.io());
  t.equal(result.error?.code, 'E_LOCKED');
  t.match(result.error?.message, /is locked by ci@build-host \(pid 999999, since 2026-01-01T10:00:00Z\); that process no longer runs on this host/);
  t.match(result.error?.message, /PULUMI_BACKEND_URL='s3:\/\/state-bucket\/setopsd' pulumi cancel --yes --stack organization\/setops-acme-shop\/production/);
  t.match(result.error?.message, new RegExp(`\\(or remove ${lockUrl.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\)$`));
});

t.test('the state directory indexes AWS stages: recorded after an up, cleared after a destroy', async (t) => {
  // The checkpoint path is only known once setup made the state dir: the rules come after.
  const s = await setup(t, []);
  const checkpoint = join(s.backendRoot, '.pulumi/stacks/setops-acme-shop/production.json');
  const recorded = (resources: unknown[]): string =>
    JSON.stringify({ version: 3, checkpoint: { stack: 'organization/setops-acme-shop/production', latest: { manifest: { time: '2026-01-01T00:00:00Z', magic: '', version: '' }, resources } } });
  const stackRes = { urn: 'urn:pulumi:production::setops-acme-shop::pulumi:pulumi:Stack::setops-acme-shop-production', custom: false, type: 'pulumi:pulumi:Stack', outputs: { setopsdStageModel: canonicalJson(model) } };
  writeFileSync(
    join(s.fakeDir, 'script.json'),
    JSON.stringify({
      rules: [
        { when: 'up', writes: [{ path: checkpoint, text: recorded([stackRes]) }] },
        { when: 'destroy', writes: [{ path: checkpoint, text: recorded([]) }] },
      ],
    }),
  );
  const { StateStore } = await import('../../../../src/state/store.js');
  const store = new StateStore(s.stateDir);
  const up = await s.engine.apply(model, { ref, changes: [] }, s.io());
  t.equal(up.status, 'succeeded');
  t.same(up.actual.model, model, 'read after the up returns the recorded model');
  t.same((await store.read(ref)).model, model, 'indexed in the state directory');
  t.same(await store.list(), [ref]);
  const again = await s.engine.apply(model, { ref, changes: [] }, s.io());
  t.equal(again.status, 'succeeded');
  t.equal((await store.read(ref)).serial, '1', 'an unchanged model is not rewritten');
  const down = await s.engine.destroy(ref, s.io());
  t.equal(down.status, 'succeeded');
  t.same(down.actual, { model: null, serial: null });
  t.equal((await store.read(ref)).model, null, 'a destroyed stage is no longer recorded');
});
