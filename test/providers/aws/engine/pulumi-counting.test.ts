/**
 * Pulumi's outcome is trusted and changes are counted as Pulumi counts them: a successful run
 * with component resources, a replace under an alias, a cleaned-up pending delete, default
 * providers and a refresh that deletes several state entries under one URN.
 */
import t from 'tap';
import { translateEvents } from '../../../../src/providers/aws/engine/events/translate.js';
import type { EngineEventLike, StepMetadata } from '../../../../src/providers/aws/engine/events/types.js';

const U = (type: string, name: string, parent = ''): string => `urn:pulumi:dev::setops-acme-shop::${parent ? `${parent}$` : ''}${type}::${name}`;
const STACK = U('pulumi:pulumi:Stack', 'setops-acme-shop-dev');
let seq = 0;
const pre = (meta: StepMetadata, planning = false): EngineEventLike => ({ sequence: ++seq, resourcePreEvent: { metadata: meta, ...(planning ? { planning } : {}) } });
const out = (meta: StepMetadata, planning = false): EngineEventLike => ({ sequence: ++seq, resOutputsEvent: { metadata: meta, ...(planning ? { planning } : {}) } });
const summary = (resourceChanges: Record<string, number>, extra: Record<string, unknown> = {}): EngineEventLike => ({
  sequence: ++seq,
  summaryEvent: { maybeCorrupt: false, durationSeconds: 3, resourceChanges, PolicyPacks: {}, ...extra },
});
const step = (op: string, type: string, urn: string, extra: Partial<StepMetadata> = {}): StepMetadata => ({ op, type, urn, ...extra });

t.test('a successful up with a component resource is succeeded, nothing pending, everything applied', async (t) => {
  const comp = U('setops:x:Component', 'web');
  const child = U('aws:s3/bucket:Bucket', 'web-bucket', 'setops:x:Component');
  const events = [
    pre(step('same', 'pulumi:pulumi:Stack', STACK)),
    // A component's register step: its outputs event may never come (no registerOutputs).
    pre(step('create', 'setops:x:Component', comp)),
    pre(step('create', 'aws:s3/bucket:Bucket', child)),
    out(step('create', 'aws:s3/bucket:Bucket', child)),
    out(step('same', 'pulumi:pulumi:Stack', STACK)),
    summary({ create: 2, same: 1 }),
  ];
  const withResult = translateEvents(events, { result: 'succeeded' });
  t.equal(withResult.outcome, 'succeeded', 'the up result decides');
  t.same(withResult.pending, []);
  t.same(withResult.completed.sort(), ['resource/aws:s3/bucket:Bucket/web-bucket', 'resource/setops:x:Component/web']);
  // The summary event's own result decides too (newer engines put it there).
  t.equal(translateEvents([...events.slice(0, -1), summary({ create: 2, same: 1 }, { result: 'succeeded' })]).outcome, 'succeeded');
  t.equal(translateEvents(events, { result: 'failed' }).outcome, 'failed');
  // Without a word from Pulumi, the bookkeeping still tells an interrupted stream.
  t.equal(translateEvents(events).outcome, 'interrupted');
});

t.test('a replace under an alias is one replace line under the new URN', async (t) => {
  const oldUrn = U('aws:rds/instance:Instance', 'db');
  const newUrn = U('aws:rds/instance:Instance', 'svc-main-db');
  const type = 'aws:rds/instance:Instance';
  const meta = (op: string, urn: string, oldState: string): StepMetadata =>
    step(op, type, urn, { old: { urn: oldState, type, inputs: { finalSnapshotIdentifier: 'acme-final' } }, new: op === 'delete-replaced' ? null : { urn: newUrn, type }, keys: ['engine'] });
  const tr = translateEvents(
    [
      pre(meta('create-replacement', newUrn, oldUrn), true),
      pre(meta('replace', newUrn, oldUrn), true),
      pre(meta('delete-replaced', oldUrn, oldUrn), true),
      summary({ replace: 1 }, { isPreview: true }),
    ],
    { result: 'succeeded' },
  );
  t.same([...new Set(tr.changes.map((c) => `${c.op} ${c.subject}`))], ['replace resource/aws:rds/instance:Instance/svc-main-db']);
  t.same(tr.counts, { replace: 1 });
  t.match(tr.changes[0]!.reason, /final snapshot acme-final is kept/);
});

t.test('a cleaned-up pending delete is a delete without data loss, not a replace', async (t) => {
  const urn = U('aws:rds/instance:Instance', 'svc-main-db');
  const type = 'aws:rds/instance:Instance';
  const meta = step('delete-replaced', type, urn, { old: { urn, type, delete: true } });
  const tr = translateEvents([pre(meta), out(meta), summary({})], { result: 'succeeded' });
  t.same(tr.changes.map((c) => [c.op, c.subject, c.dataLoss, c.reason]), [
    ['delete', 'resource/aws:rds/instance:Instance/svc-main-db', false, 'cleans up a resource an earlier replacement left pending deletion'],
  ]);
});

t.test('default-provider steps are neither changes nor counted', async (t) => {
  const prov = U('pulumi:providers:aws', 'default_6_83_0');
  const explicit = U('pulumi:providers:aws', 'aws');
  const tr = translateEvents(
    [
      pre(step('create', 'pulumi:providers:aws', prov)),
      out(step('create', 'pulumi:providers:aws', prov)),
      pre(step('create', 'pulumi:providers:aws', explicit)),
      out(step('create', 'pulumi:providers:aws', explicit)),
      summary({ create: 1 }),
    ],
    { result: 'succeeded' },
  );
  t.same(tr.changes.map((c) => c.subject), ['resource/pulumi:providers:aws/aws'], "the stage's own provider is a change");
  t.same(tr.counts, { create: 1 });
});

t.test('a refresh deleting two state entries under one URN counts two and says so', async (t) => {
  const urn = U('aws:s3/bucket:Bucket', 'data');
  const type = 'aws:s3/bucket:Bucket';
  const tr = translateEvents([pre(step('refresh', type, urn)), out(step('delete', type, urn)), pre(step('refresh', type, urn)), out(step('delete', type, urn)), summary({ delete: 2 }, { result: 'succeeded' })]);
  t.same(tr.counts, { delete: 2 });
  t.same(tr.changes.map((c) => [c.op, c.reason]), [['delete', 'deleted outside Pulumi (2 state entries)']]);
});
