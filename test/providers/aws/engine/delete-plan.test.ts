/** The plan line of a deleted database says what is kept: its final snapshot, or the resource itself (retainOnDelete). */
import t from 'tap';
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
