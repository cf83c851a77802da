import { compareCodeUnits } from '../model/canonical.js';
import type { Change } from '../model/changeset.js';

/**
 * Dependency rank of a change: applying changes in rank order is valid. Stage first; services
 * before the apps that link them; links and domains after their app; then unlink, delete apps,
 * delete services, delete notifications, delete the stage; engine resource lines last.
 */
export function rankOf(change: Change): number {
  const kind = change.subject.split('/', 1)[0];
  const del = change.op === 'delete';
  switch (kind) {
    case 'stage':
      return del ? 90 : change.op === 'update' ? 1 : 0;
    case 'notification':
      return del ? 80 : 2;
    case 'service':
      return del ? 70 : 10;
    case 'app':
      return del ? 60 : 20;
    case 'link':
    case 'domain':
    case 'schedule':
      return del ? 50 : 30;
    default:
      return 100;
  }
}

/** Stable, deterministic order: rank, then subject, then path (whole-subject changes first). Does not mutate `changes`. */
export function orderChanges(changes: readonly Change[]): Change[] {
  return changes
    .map((change, index) => ({ change, index, rank: rankOf(change) }))
    .sort((a, b) => a.rank - b.rank || compareCodeUnits(a.change.subject, b.change.subject) || compareCodeUnits(a.change.path ?? '', b.change.path ?? '') || a.index - b.index)
    .map((x) => x.change);
}
