import t from 'tap';
import { readFileSync, writeFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sortKeys } from '../../../../src/model/canonical.js';
import { errorTail } from '../../../../src/providers/aws/engine/events/error-tail.js';
import { progressFor } from '../../../../src/providers/aws/engine/events/progress.js';
import { orderEvents, translateEvents } from '../../../../src/providers/aws/engine/events/translate.js';
import { parsePropertyPath, displayValue, SECRET_TEXT, UNKNOWN_TEXT } from '../../../../src/providers/aws/engine/values.js';
import { parseEventStream } from './event-stream.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../../fixtures');
const fixtures = join(root, 'pulumi');
const goldenDir = join(root, 'pulumi-golden');

/** Every engine event stream in the fixtures (everything under pkg/ except the state files). */
function eventStreams(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.json') && !p.includes('/stack/testdata/')) out.push(p);
    }
  };
  walk(join(fixtures, 'pkg'));
  return out;
}

function goldenName(file: string): string {
  return relative(join(fixtures, 'pkg'), file).replace(/\.json$/, '').replace(/[/]/g, '__') + '.json';
}

const streams = eventStreams();

t.test('there is one golden per event stream and at least the 19 recorded streams', async (t) => {
  t.ok(streams.length >= 19, `found ${streams.length} streams`);
  if (!process.env.UPDATE_GOLDEN) {
    const goldens = readdirSync(goldenDir).filter((n) => n.endsWith('.json')).sort();
    t.same(goldens, streams.map(goldenName).sort(), 'no stale or missing golden files');
  }
});

for (const file of streams) {
  t.test(`translation of ${relative(fixtures, file)} matches its golden`, async (t) => {
    const events = parseEventStream(readFileSync(file, 'utf8'));
    const translation = translateEvents(events);
    const text = JSON.stringify(sortKeys({ ...translation, errorTail: errorTail(translation) }), null, 2) + '\n';
    const golden = join(goldenDir, goldenName(file));
    if (process.env.UPDATE_GOLDEN) {
      mkdirSync(goldenDir, { recursive: true });
      writeFileSync(golden, text);
    }
    t.equal(text, readFileSync(golden, 'utf8'));
    // Never a secret or an unknown sentinel in what setopsd shows.
    t.notMatch(text, /ciphertext|04da6b54-80e4-46f7-96ec-b56ff0331ba9|4dabf18193072939515e22adb298388d/);
    // Translation does not depend on arrival order when the stream numbers its events
    // (the lifecycle recordings zero every sequence: there, arrival order is all there is).
    const seqs = new Set(events.map((e) => e.sequence));
    if (seqs.size === events.length) t.same(translateEvents([...events].reverse()), translation);
  });
}

const P = (f: string): string => join(fixtures, 'pkg/backend/display/testdata', f);
const L = (f: string): string => join(fixtures, 'pkg/engine/lifecycletest/testdata/output', f, 'eventstream.json');
const load = (p: string) => translateEvents(parseEventStream(readFileSync(p, 'utf8')));

t.test('concatenated pretty-printed JSON parses into the same events as NDJSON', async (t) => {
  const text = readFileSync(P('json-yaml/json.json'), 'utf8');
  const events = parseEventStream(text);
  t.equal(events.length, 4);
  t.same(events.map((e) => e.sequence), [0, 3, 21, 22]);
  t.same(parseEventStream(events.map((e) => JSON.stringify(e)).join('\n')), events);
  t.throws(() => parseEventStream('{"a": 1} {"b": '), /not closed/);
  t.throws(() => parseEventStream('[1]'), /expected '\{'/);
  // Braces inside strings do not confuse the reader.
  t.same(parseEventStream('{"m":"a } { \\" b"}\n{"n":1}'), [{ m: 'a } { " b' }, { n: 1 }]);
});

t.test('events are ordered by sequence: up-5 (shuffled) translates like up', async (t) => {
  const up = load(P('not-truncated/up.json'));
  const up5 = load(P('not-truncated/up-5.json'));
  t.same(up5, up);
  t.same(up.changes.map((c) => `${c.op} ${c.subject}`), ['create resource/aws:eks/cluster:Cluster/eks-cluster']);
  t.same(up.summary, { create: 1, same: 5 });
  t.equal(up.outcome, 'succeeded');
  const seqs = orderEvents(parseEventStream(readFileSync(P('not-truncated/up-5.json'), 'utf8'))).map((e) => e.sequence ?? 0);
  t.same(seqs, [...seqs].sort((a, b) => a - b));
});

t.test('a replace triple collapses into one replace line with the property that forces it', async (t) => {
  const tr = load(P('not-truncated/webserver-userdata.json'));
  t.equal(tr.preview, true);
  t.equal(tr.changes.length, 1);
  const [c] = tr.changes;
  t.equal(c!.op, 'replace');
  t.equal(c!.subject, 'resource/aws:ec2/instance:Instance/web-server-www');
  t.equal(c!.path, 'userData');
  t.equal(c!.reason, 'forces replacement');
  t.match(String(c!.before), /Hello, World!/);
  t.match(String(c!.after), /Hello, Pulumi!/);
  const lifecycle = load(L('TestReplaceOnChangesGolangLifecycle/-0-1-preview'));
  t.same(lifecycle.changes.map((x) => [x.op, x.subject, x.path, x.before, x.after, x.reason]), [
    ['replace', 'resource/pkgA:m:typA/resA', 'foo', 'bar', 'baz', 'forces replacement'],
  ]);
  // The same replace seen in the real run gives the same plan line.
  t.same(load(L('TestReplaceOnChangesGolangLifecycle/-0-1')).changes, lifecycle.changes);
});

t.test('detailedDiff paths give one line per property: an added ingress rule for port 22 has no before', async (t) => {
  const tr = load(P('not-truncated/up-4.json'));
  t.same(tr.changes.map((c) => [c.op, c.subject, c.path, c.before, c.after]), [
    ['update', 'resource/aws:ec2/securityGroup:SecurityGroup/eks-sg', 'ingress[1].cidrBlocks[0]', undefined, '0.0.0.0/0'],
    ['update', 'resource/aws:ec2/securityGroup:SecurityGroup/eks-sg', 'ingress[1].fromPort', undefined, 22],
    ['update', 'resource/aws:ec2/securityGroup:SecurityGroup/eks-sg', 'ingress[1].protocol', undefined, 'tcp'],
    ['update', 'resource/aws:ec2/securityGroup:SecurityGroup/eks-sg', 'ingress[1].self', undefined, false],
    ['update', 'resource/aws:ec2/securityGroup:SecurityGroup/eks-sg', 'ingress[1].toPort', undefined, 22],
  ]);
  t.same(tr.completed, ['resource/aws:ec2/securityGroup:SecurityGroup/eks-sg']);
});

t.test('failed runs: outcome, failed subject and a short error tail', async (t) => {
  const hooks = load(L('TestErrorHooks_NoRetryIfAllHooksReturnFalse_Update/1'));
  t.equal(hooks.outcome, 'failed');
  t.same(hooks.failed, ['resource/pkgA:m:typA/resA']);
  t.same(hooks.completed, []);
  // The engine repeats the error without its resource at the end: reported once.
  t.equal(errorTail(hooks), 'resource/pkgA:m:typA/resA: update failed');
  const stacks = load(P('not-truncated/failed-stacks-dont-rewrite-operations.json'));
  t.equal(stacks.outcome, 'failed');
  t.equal(stacks.maybeCorrupt, true);
  t.same(stacks.failed, ['resource/pulumi-python:dynamic:Resource/test-x']);
  const policy = load(L('TestSimpleAnalyzeResourceFailure'));
  t.equal(policy.outcome, 'failed');
  t.same(policy.policy, [{ pack: 'analyzerA', policy: 'always-fails', level: 'mandatory', subject: 'resource/pkgA:m:typA/resA', message: 'a policy failed' }]);
  t.match(errorTail(policy), /policy analyzerA\/always-fails on resource\/pkgA:m:typA\/resA: a policy failed/);
});

t.test('interrupted runs: pending steps and what completed', async (t) => {
  const tr = load(P('not-truncated/up-interrupted.json'));
  t.equal(tr.outcome, 'interrupted');
  t.same(tr.pending, [
    'resource/my:component:WebService/interrupted-component',
    'resource/aws:ec2/instance:Instance/interrupted-instance',
    'resource/aws:rds/instance:Instance/interrupted-db',
  ]);
  t.same(tr.completed, ['resource/aws:s3/bucket:Bucket/completed-bucket']);
  const warned = load(L('TestUpdateShowsWarningWithPendingOperations'));
  t.equal(warned.previousPendingOperations, true);
  t.equal(warned.outcome, 'succeeded');
  // A stream cut before its summary is interrupted.
  const cut = parseEventStream(readFileSync(P('not-truncated/up.json'), 'utf8')).filter((e) => !e.summaryEvent && !e.cancelEvent);
  t.equal(translateEvents(cut).outcome, 'interrupted');
});

t.test('refresh drift, imports and destroys', async (t) => {
  const gone = load(L('TestRefreshBasics/3-0-0'));
  t.same(gone.changes.map((c) => [c.op, c.subject, c.reason, c.command]), [
    // Two state entries under one URN: Pulumi counts both, the one line says so.
    ['delete', 'resource/pkgA:m:typA/resC', 'deleted outside Pulumi (2 state entries)', "pulumi refresh --stack test --target 'urn:pulumi:test::test::pkgA:m:typA::resC'"],
  ]);
  t.same(load(L('TestViews_RefreshBeforeUpdate_Update/-0-1')).changes, [], 'a refresh that finds nothing changed has no lines');
  const imp = load(L('TestImportOption/0'));
  t.same(imp.changes.map((c) => [c.op, c.reason]), [['create', 'import an existing resource'], ['update', undefined]]);
  const destroy = load(P('not-truncated/destroy-with-custom-resource-parent.json'));
  t.same(destroy.changes.map((c) => [c.op, c.subject, c.dataLoss]), [
    ['delete', 'resource/aws:s3/bucketObject:BucketObject/myobject', false],
    ['delete', 'resource/aws:s3/bucket:Bucket/mybucket', true],
  ]);
  t.ok(destroy.changes.some((c) => c.dataLoss), 'deleting a bucket is data loss');
});

t.test('the stack resource and unchanged resources make no plan lines', async (t) => {
  t.same(load(P('not-truncated/stack-output-resource-diff.json')).changes, []);
  t.same(load(P('json-yaml/json.json')).changes, [], 'a stack output diff is the setopsd model diff, shown by the setopsd plan');
  const big = load(P('not-truncated/template-body.json'));
  t.same(big.summary, { same: 57, update: 1 });
  t.ok(big.changes.length >= 1);
  t.same([...new Set(big.changes.map((c) => `${c.op} ${c.subject}`))].length, 1, 'one resource updated');
});

t.test('progress: one event per step, past tense on success, none for same steps', async (t) => {
  const events = parseEventStream(readFileSync(P('not-truncated/up-3.json'), 'utf8'));
  const progress = orderEvents(events).flatMap(progressFor);
  t.ok(progress.length > 0);
  t.ok(progress.every((p) => p.subject.startsWith('resource/')));
  t.same(progress.filter((p) => p.status === 'succeeded').map((p) => p.message), progress.filter((p) => p.status === 'succeeded').map(() => 'created'));
  t.same(progressFor({ resourcePreEvent: { metadata: { op: 'same', urn: 'urn:pulumi:a::b::t:m:T::x', type: 't:m:T' } } }), []);
  t.same(progressFor({ resOpFailedEvent: { metadata: { op: 'update', urn: 'urn:pulumi:a::b::t:m:T::x', type: 't:m:T' }, status: 1, steps: 0 } }), [
    { subject: 'resource/t:m:T/x', status: 'failed', message: 'updating failed' },
  ]);
});

t.test('secrets and unknowns are shown as such in plan values', async (t) => {
  const secret = { '4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270', ciphertext: '[secret]' };
  t.same(displayValue({ a: secret, b: '04da6b54-80e4-46f7-96ec-b56ff0331ba9', __defaults: ['x'], c: ['x'] }), { a: SECRET_TEXT, b: UNKNOWN_TEXT, c: ['x'] });
  const tr = translateEvents([
    {
      sequence: 1,
      resourcePreEvent: {
        planning: true,
        metadata: {
          op: 'update',
          urn: 'urn:pulumi:dev::p::aws:ecs/taskDefinition:TaskDefinition::web',
          type: 'aws:ecs/taskDefinition:TaskDefinition',
          old: { inputs: { containerDefinitions: secret, cpu: '256' }, outputs: {} },
          new: { inputs: { containerDefinitions: secret, cpu: '04da6b54-80e4-46f7-96ec-b56ff0331ba9' }, outputs: {} },
          diffs: ['containerDefinitions', 'cpu'],
        },
      },
    },
    { sequence: 2, summaryEvent: { resourceChanges: { update: 1 } } },
  ]);
  t.same(tr.changes.map((c) => [c.path, c.before, c.after]), [
    ['containerDefinitions', SECRET_TEXT, SECRET_TEXT],
    ['cpu', '256', UNKNOWN_TEXT],
  ]);
  const long = 'x'.repeat(500);
  t.equal(displayValue(long), 'x'.repeat(200) + '… (500 chars)');
});

t.test('property paths', async (t) => {
  t.same(parsePropertyPath('ingress[1].cidrBlocks[0]'), ['ingress', 1, 'cidrBlocks', 0]);
  t.same(parsePropertyPath('tags["Name.with.dots"]'), ['tags', 'Name.with.dots']);
  t.same(parsePropertyPath('a.b'), ['a', 'b']);
  t.equal(parsePropertyPath('a[x'), null);
});
