/**
 * Final snapshots on the engine side: the plan line of a deleted database says what is kept (its
 * final snapshot, or the resource itself with retainOnDelete), and the snapshot names the stack
 * records reach the program, so a database keeps its first name.
 */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseCheckpoint } from '../../../../src/providers/aws/engine/checkpoint.js';
import type { ProgramOptions } from '../../../../src/providers/aws/program/context.js';
import { stage } from '../../../helpers/models.js';
import { writeStackCheckpoint } from './checkpoint-file.js';
import { fakeStack, org, ref } from './fake-stack.js';
import { translateEvents } from '../../../../src/providers/aws/engine/events/translate.js';
import type { EngineEventLike, StepState } from '../../../../src/providers/aws/engine/events/types.js';

const RDS = 'aws:rds/instance:Instance';
const urn = 'urn:pulumi:production::setops-acme-shop::aws:rds/instance:Instance::svc-main-db';
const deleting = (old: StepState): EngineEventLike[] => [
  { sequence: 1, resourcePreEvent: { planning: true, metadata: { op: 'delete', urn, type: RDS, old, new: null } } },
  { sequence: 2, summaryEvent: { resourceChanges: { delete: 1 }, isPreview: true } },
];

t.test('a deleted RDS instance names the final snapshot that is kept', async (t) => {
  const [c] = translateEvents(deleting({ type: RDS, urn, inputs: { finalSnapshotIdentifier: 'acme-shop-production-main-final-20260102030405', skipFinalSnapshot: false } })).changes;
  t.equal(c!.op, 'delete');
  t.equal(c!.reason, 'final snapshot acme-shop-production-main-final-20260102030405 is kept');
  t.equal(c!.dataLoss, true, 'still data loss: the live database goes');
});

t.test('skipFinalSnapshot: no snapshot is promised', async (t) => {
  const [c] = translateEvents(deleting({ type: RDS, urn, inputs: { finalSnapshotIdentifier: 'x-final', skipFinalSnapshot: true } })).changes;
  t.equal(c!.reason, undefined);
});

t.test('retainOnDelete: the resource stays in AWS, no data loss', async (t) => {
  const [c] = translateEvents(deleting({ type: RDS, urn, retainOnDelete: true, inputs: {} })).changes;
  t.match(c!.reason, /retained in AWS \(retainOnDelete\)/);
  t.equal(c!.dataLoss, false);
});

const dbUrn = 'urn:pulumi:production::setops-acme-shop::aws:rds/instance:Instance::svc-main-db';
const dbState = { urn: dbUrn, type: RDS, custom: true, id: 'db-1', inputs: { finalSnapshotIdentifier: 'acme-shop-production-main-final-20250101000000', skipFinalSnapshot: false } };

t.test('the checkpoint reader collects the recorded final snapshot names by logical name', async (t) => {
  const text = JSON.stringify({ version: 3, checkpoint: { latest: { resources: [dbState, { ...dbState, urn: dbUrn.replace('main', 'gone'), delete: true }] } } });
  t.same(parseCheckpoint(text, 'f.json').finalSnapshots, { 'svc-main-db': 'acme-shop-production-main-final-20250101000000' }, 'resources pending deletion left out');
});

t.test('preview and up give the program the recorded names and the engine clock', async (t) => {
  const opts: ProgramOptions[] = [];
  const s = await fakeStack(t, { engine: { program: (_m, o) => (opts.push(o ?? {}), async () => ({})) } });
  const model = stage({ name: ref.stage, organization: org });
  const file = writeStackCheckpoint(s.backendRoot, ref, model);
  const cp = JSON.parse(readFileSync(file, 'utf8')) as { checkpoint: { latest: { resources: unknown[] } } };
  cp.checkpoint.latest.resources.push(dbState);
  writeFileSync(file, JSON.stringify(cp));
  s.script([{ when: 'preview' }, { when: 'up' }]);
  await s.engine.preview!(model, { model: null, serial: null });
  await s.engine.apply(model, { ref, changes: [] }, s.io());
  t.equal(opts.length, 2);
  for (const o of opts) {
    t.same(o.recordedFinalSnapshots, { 'svc-main-db': 'acme-shop-production-main-final-20250101000000' });
    t.equal(o.now, Date.UTC(2026, 0, 1), "the engine clock's time");
  }
});
