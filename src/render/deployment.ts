import { sortKeys } from '../model/canonical.js';
import type { StageModel } from '../model/stage-model.js';
import type { Deployment } from '../state/journal.js';
import { changeText, marker } from './describe.js';
import { formatDuration, renderCounts } from './progress.js';

/** One deployment as `setopsd show STAGE N` prints it: the entry, its changeset and the model it applied. */
export function renderDeploymentText(d: Deployment, model: StageModel | null, logTail: readonly string[] = []): string {
  const took = d.endedAt ? ` (took ${formatDuration(Date.parse(d.endedAt) - Date.parse(d.startedAt))})` : '';
  const lines = [
    `${d.stage} deployment #${d.number}: ${d.kind} ${d.status}`,
    `  commit    ${d.commit ?? '-'}${d.ref ? ` (${d.ref})` : ''}`,
    `  trigger   ${d.trigger}${d.rollbackOf !== undefined ? ` (rollback of #${d.rollbackOf})` : ''}`,
    `  started   ${d.startedAt}${d.endedAt ? `, ended ${d.endedAt}${took}` : ''}`,
    `  changes   ${renderCounts(d.summary)}`,
  ];
  if (d.error) lines.push(`  error     ${d.error.code}: ${d.error.message}`);
  if (model !== null) lines.push(`  model     ${modelSummary(model)}`);
  lines.push(`  log       ${d.log}`);
  lines.push('', 'changeset:');
  if (d.changeset.changes.length === 0) lines.push('  (no changes)');
  for (const c of d.changeset.changes) {
    const notApplied = d.status === 'failed' && !d.applied.includes(c.subject);
    lines.push(`  ${marker(c.op)} ${changeText(c, null, null)}${notApplied ? '  (not applied)' : ''}`);
  }
  lines.push('', logTail.length > 0 ? `log (last ${logTail.length} lines):` : 'log: empty or gone');
  for (const l of logTail) lines.push(`  ${l}`);
  lines.push('');
  if (d.kind === 'destroy') lines.push('model: none (a destroy applies no model)');
  else if (model === null) lines.push(`model: not stored (deployment #${d.number} predates stored models)`);
  else lines.push(`model ${d.desiredHash}:`, JSON.stringify(sortKeys(model), null, 2));
  return lines.join('\n') + '\n';
}

/** `setopsd show --format json`: the journal entry and the model it applied (null when none is stored). */
export function renderDeploymentJson(d: Deployment, model: StageModel | null, logTail: readonly string[] = []): string {
  return JSON.stringify(sortKeys({ formatVersion: 1, deployment: d, model, logTail }), null, 2) + '\n';
}

/** `2 apps (web ×3, worker ×2), 1 service (database postgresql 16)`. */
export function modelSummary(model: StageModel): string {
  const apps = Object.entries(model.apps).sort(([a], [b]) => (a < b ? -1 : 1));
  const services = Object.entries(model.services).sort(([a], [b]) => (a < b ? -1 : 1));
  const appText = `${apps.length} app${apps.length === 1 ? '' : 's'}${apps.length > 0 ? ` (${apps.map(([n, a]) => `${n} ×${a.scale}`).join(', ')})` : ''}`;
  const serviceText = `${services.length} service${services.length === 1 ? '' : 's'}${services.length > 0 ? ` (${services.map(([n, s]) => `${n} ${s.type}${s.version ? ` ${s.version}` : ''}`).join(', ')})` : ''}`;
  return `${appText}, ${serviceText}`;
}
