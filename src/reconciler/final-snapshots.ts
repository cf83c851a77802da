import type { ActualState } from '../model/actual-state.js';
import type { Change, Changeset } from '../model/changeset.js';

/**
 * The changeset with each delete or replace of a stateful service saying what of its data is
 * kept: `final snapshot NAME is kept` with the identifier the engine records for it
 * (`actual.finalSnapshots`, AWS: the database's `finalSnapshotIdentifier`), or `no final snapshot:
 * the service says finalSnapshot: false` when the Service opted out. Engines that take no final snapshots
 * (local) record none, and nothing changes. Pure.
 */
export function withKeptSnapshots(changeset: Changeset, actual: ActualState): Changeset {
  const kept = actual.finalSnapshots;
  if (kept === undefined || actual.model === null) return changeset;
  const services = actual.model.services;
  let touched = false;
  const changes = changeset.changes.map((c): Change => {
    if (!c.dataLoss || !c.subject.startsWith('service/') || (c.op !== 'delete' && c.op !== 'replace')) return c;
    const name = c.subject.slice('service/'.length);
    const snapshot = kept[name];
    const said = snapshot !== undefined ? `final snapshot ${snapshot} is kept` : services[name]?.finalSnapshot === false ? 'no final snapshot: the service says finalSnapshot: false' : undefined;
    if (said === undefined) return c;
    touched = true;
    return { ...c, reason: c.reason === undefined ? said : `${c.reason}; ${said}` };
  });
  return touched ? { ...changeset, changes } : changeset;
}
