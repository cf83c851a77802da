import { sortKeys } from '../model/canonical.js';
import type { StageStatus } from '../providers/engine.js';
import type { Deployment } from '../state/journal.js';
import type { LockInfo } from '../state/lock.js';
import type { StageStatusRecord } from '../state/status-record.js';
import { formatDuration, renderCounts } from './progress.js';

/** What `setopsd status` knows about one stage. */
export interface StageStatusReport {
  /** `org/project/stage`. */
  stage: string;
  engine: string;
  /** Recorded state serial; null when the stage is not deployed (e.g. destroyed). */
  serial: string | null;
  lastDeployment: DeploymentSummary | null;
  lock: LockInfo | null;
  /** The stage's status record (ready, failed, waiting-approval…); null before its first apply with this version. */
  record: StageStatusRecord | null;
  /** Apps and services of the recorded model. */
  apps: Record<string, { scale: number; public: boolean }>;
  services: Record<string, { type: string }>;
  /** What runs now, from the engine; null when the engine cannot tell. */
  runtime: StageStatus | null;
  /** Why `runtime` is missing, when the engine failed to report it. */
  runtimeError?: string;
  /** Set while an operator pins the stage: where, and how far the branch moved on (null: cannot tell). */
  pin?: { deployment: number; reason: 'rollback' | 'pin'; commit: string | null; since: string; commitsAhead: number | null; message: string };
}

/** The short form of a deployment for status and history. */
export interface DeploymentSummary {
  number: number;
  kind: Deployment['kind'];
  status: Deployment['status'];
  trigger: string;
  commit: string | null;
  ref: string | null;
  startedAt: string;
  endedAt?: string;
  changes: Deployment['summary'];
  applied: string[];
  error?: { code: string; message: string };
  /**
   * Set on a `pending`/`running` entry whose process is gone: it was interrupted and will be
   * recorded as failed by the next apply of the stage.
   */
  interrupted?: { pid: number };
}

/**
 * Journal entry → summary (drops the full changeset, pid and host). `isGone(entry)` tells an
 * open entry of a dead process (shown as interrupted) from one that is still running.
 */
export function summarizeDeployment(d: Deployment, isGone: (d: Deployment) => boolean = () => false): DeploymentSummary {
  const out: DeploymentSummary = {
    number: d.number,
    kind: d.kind,
    status: d.status,
    trigger: d.trigger,
    commit: d.commit,
    ref: d.ref,
    startedAt: d.startedAt,
    changes: d.summary,
    applied: d.applied,
  };
  if (d.endedAt) out.endedAt = d.endedAt;
  if (d.error) out.error = d.error;
  if ((d.status === 'pending' || d.status === 'running') && isGone(d)) out.interrupted = { pid: d.pid };
  return out;
}

/** `setopsd status --format json`: keys sorted, stages in the given order. */
export function renderStatusJson(reports: StageStatusReport[]): string {
  return JSON.stringify(sortKeys({ formatVersion: 1, stages: reports }), null, 2) + '\n';
}

/** `setopsd status` for a person. */
export function renderStatusText(reports: StageStatusReport[]): string {
  if (reports.length === 0) return 'no deployed stages in this state directory\n';
  return reports.map(renderStage).join('\n');
}

function renderStage(r: StageStatusReport): string {
  const lines: string[] = [`${r.stage} (${r.engine} engine${r.serial === null ? ', not deployed' : ''})`];
  if (r.record) lines.push(`  status           ${renderRecord(r.record)}`);
  if (r.record?.pendingPlan) lines.push(`  approve          setopsd approve ${r.stage} --plan ${r.record.pendingPlan.id}  (${r.record.pendingPlan.changes.length} changes${r.record.pendingPlan.dataLoss ? ', with data loss' : ''})`);
  for (const finding of r.record?.drift ?? []) lines.push(`  drift            ${finding}`);
  const policy = r.record?.policy;
  if (policy) {
    lines.push(`  policy           ${policy.deny} deny, ${policy.warn} warn${policy.deny > 0 ? ': the next change of this stage is refused' : ''}`);
    for (const v of policy.violations) lines.push(`  ${''.padEnd(16)} ${v}`);
  }
  if (r.pin) lines.push(`  pinned           ${r.pin.message}`);
  const d = r.lastDeployment;
  lines.push(
    `  last deployment  ${d ? `#${d.number} ${d.kind} ${statusWord(d)}, commit ${shortCommit(d.commit)}, ${d.endedAt ?? d.startedAt}${d.error ? ` — ${d.error.message}` : ''}` : 'none'}`,
  );
  if (r.lock) lines.push(`  locked           by PID ${r.lock.pid} on ${r.lock.host} since ${r.lock.startedAt} (${r.lock.command})`);
  if (r.runtime?.router) lines.push(`  router           ${r.runtime.router.url}`);
  if (r.runtime?.source) lines.push(`  runtime          from ${r.runtime.source}`);
  for (const note of [...(r.runtime?.notes ?? [])].sort()) lines.push(`  ${''.padEnd(16)} ${note}`);
  if (r.runtimeError) lines.push(`  runtime          unknown: ${r.runtimeError}`);
  const appNames = [...new Set([...Object.keys(r.apps), ...Object.keys(r.runtime?.apps ?? {})])].sort();
  for (const name of appNames) {
    const model = r.apps[name];
    const run = r.runtime?.apps[name];
    const procs = [...(run?.processes ?? [])].sort((a, b) => a.port - b.port || a.pid - b.pid);
    const healthy = procs.filter((p) => p.healthy).length;
    const want = model ? `${healthy}/${model.scale} healthy` : `${healthy} healthy (not in the recorded model)`;
    // A view that is not live (runtime.source) has no process health to count.
    const live = r.runtime && !r.runtime.source;
    lines.push(`  app ${name.padEnd(12)} ${live ? want : `scale ${model?.scale ?? '?'}`}${model?.public ? ', public' : ''}${run?.url ? `  ${run.url}` : ''}`);
    if (run?.note) lines.push(`    ${run.note}`);
    for (const p of procs) {
      lines.push(`    pid ${p.pid}  port ${p.port}  ${p.healthy ? 'healthy' : 'unhealthy'}  restarts ${p.restarts}  since ${p.startedAt}`);
    }
  }
  const serviceNames = [...new Set([...Object.keys(r.services), ...Object.keys(r.runtime?.services ?? {})])].sort();
  for (const name of serviceNames) {
    const run = r.runtime?.services[name];
    const type = r.services[name]?.type ?? run?.type ?? '?';
    lines.push(`  service ${name.padEnd(8)} ${type}${run ? ` ${run.status}${run.detail ? ` (${run.detail})` : ''}` : ''}`);
  }
  return lines.join('\n') + '\n';
}

/** `ready since …, at commit abc`, `failed 2× (E_UNHEALTHY): …`, `waiting-approval: … `. */
export function renderRecord(record: StageStatusRecord): string {
  const parts = [record.state + (record.failures > 1 ? ` ${record.failures}×` : '') + (record.reason ? ` (${record.reason})` : '')];
  parts.push(`since ${record.since}`);
  if (record.lastAppliedRevision) parts.push(`at commit ${shortCommit(record.lastAppliedRevision)}`);
  if (record.lastAttemptedRevision && record.lastAttemptedRevision !== record.lastAppliedRevision) parts.push(`last attempt ${shortCommit(record.lastAttemptedRevision)}`);
  return parts.join(', ') + (record.message && record.state !== 'ready' ? ` — ${record.message}` : '');
}

/** `setopsd history` for a person: newest first. */
export function renderHistoryText(stage: string, deployments: DeploymentSummary[]): string {
  if (deployments.length === 0) return `${stage}: no deployments yet\n`;
  const rows = deployments.map((d) => [
    `#${d.number}`,
    statusWord(d),
    d.kind,
    d.trigger,
    shortCommit(d.commit),
    d.startedAt,
    d.endedAt ? formatDuration(Date.parse(d.endedAt) - Date.parse(d.startedAt)) : '-',
    renderCounts(d.changes),
  ]);
  const head = ['#', 'STATUS', 'KIND', 'TRIGGER', 'COMMIT', 'STARTED', 'TOOK', 'CHANGES'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [stage, fmt(head), ...rows.map(fmt)];
  for (const d of deployments) if (d.error) out.push(`#${d.number}: ${d.error.message}`);
  return out.join('\n') + '\n';
}

/** `setopsd history --format json`. */
export function renderHistoryJson(stage: string, deployments: DeploymentSummary[]): string {
  return JSON.stringify(sortKeys({ formatVersion: 1, stage, deployments }), null, 2) + '\n';
}

/** `running`, or `running (interrupted: process 123 gone)` for an entry whose process died. */
function statusWord(d: DeploymentSummary): string {
  return d.interrupted ? `${d.status} (interrupted: process ${d.interrupted.pid} gone)` : d.status;
}

function shortCommit(commit: string | null): string {
  return commit ? commit.slice(0, 12) : '-';
}
