import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { StageState } from '../../state/status-record.js';
import type { DaemonEvent } from '../controller.js';

/** Every state of a status record, for `setopsd_stage_status` (1 for the current one, 0 for the others). */
export const STAGE_STATES = ['ready', 'reconciling', 'failed', 'stalled', 'waiting-approval', 'pinned'] as const satisfies readonly StageState[];
// A state added to StageState but not here fails to compile.
const _everyState: [Exclude<StageState, (typeof STAGE_STATES)[number]>] extends [never] ? true : false = true;
void _everyState;

/** Default metrics of prom-client that are gauges named like counters. */
const MISNAMED_DEFAULT_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** Buckets of `setopsd_reconcile_duration_seconds`: a local apply takes seconds, an AWS one minutes. */
const DURATION_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

/**
 * The daemon's Prometheus metrics (all named `setopsd_…`) and the calls that feed them.
 * Label values are only stage keys, states, short results, providers and commits — never a
 * message, an error text or anything a caller sent unchecked: a value that does not look like
 * one of those is replaced by `invalid` / `other` / `unknown`.
 */
export interface DaemonMetrics {
  /** What `GET /metrics` exposes (also the Node process metrics, prefixed `setopsd_`). */
  readonly registry: Registry;
  /**
   * Counts what a daemon event says: a finished apply (duration, result, last applied commit, and
   * `ready` for a success), a refused one, a started one (`reconciling`), a source that could not
   * be read. Other states (failed vs stalled, waiting-approval) are the status record's: set
   * them with `setStageStatus`.
   */
  observe(event: DaemonEvent): void;
  /** Keys waiting in the work queue. */
  setQueueDepth(depth: number): void;
  /** A stage's current state (null: no status record yet, every state 0). */
  setStageStatus(stage: string, state: StageState | null): void;
  /** The commit a stage is at (its status record's `lastAppliedRevision`; null: unknown, e.g. a directory source). */
  setLastApplied(stage: string, commit: string | null): void;
  /** How many changes the stage's actual state is away from its desired one (0: in sync). */
  setDrift(stage: string, changes: number): void;
  /** One webhook delivery, e.g. `('github', 'accepted')` or `('gitlab', 'bad-signature')`. */
  webhookDelivery(provider: string, result: string): void;
  /** One notification delivery to a stage's target: channel `webhook` | `email`, result `delivered` | `failed`. */
  notificationDelivery(channel: string, result: 'delivered' | 'failed'): void;
  /** One scheduled backup: `completed` or `failed`. */
  backupResult(result: 'completed' | 'failed'): void;
  /** Drops every per-stage series of a stage that is gone from the manifests and the state directory. */
  forgetStage(stage: string): void;
}

/** Builds a fresh registry with every `setopsd_` metric (one per daemon; tests make their own). */
export function createMetrics(opts: { defaultMetrics?: boolean } = {}): DaemonMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry, prefix: 'setopsd_' });
    // prom-client names three gauges `…_total`, which Prometheus reserves for counters (promtool
    // rejects them); their per-type `setopsd_nodejs_active_*` gauges carry the same numbers.
    for (const name of MISNAMED_DEFAULT_GAUGES) registry.removeSingleMetric(`setopsd_${name}`);
  }
  const registers = [registry];

  const duration = new Histogram({
    name: 'setopsd_reconcile_duration_seconds',
    help: 'Duration of deployments the daemon ran, by stage and outcome (succeeded, failed).',
    labelNames: ['stage', 'result'] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const applies = new Counter({
    name: 'setopsd_applies_total',
    help: 'Applies by outcome: succeeded, failed, or refused before anything changed (unsafe plan, missing secret, locked stage).',
    labelNames: ['result'] as const,
    registers,
  });
  const queueDepth = new Gauge({ name: 'setopsd_queue_depth', help: 'Stages waiting in the work queue.', registers });
  const stageStatus = new Gauge({
    name: 'setopsd_stage_status',
    help: "A stage's status: 1 for its current state, 0 for the others.",
    labelNames: ['stage', 'state'] as const,
    registers,
  });
  const lastApplied = new Gauge({
    name: 'setopsd_last_applied_info',
    help: 'The commit each stage is at (always 1).',
    labelNames: ['stage', 'commit'] as const,
    registers,
  });
  const drift = new Gauge({
    name: 'setopsd_drift',
    help: "Changes between a stage's actual and desired state (0: in sync).",
    labelNames: ['stage'] as const,
    registers,
  });
  const fetchFailures = new Counter({
    name: 'setopsd_source_fetch_failures_total',
    help: 'Reads of the config source that failed.',
    registers,
  });
  const webhooks = new Counter({
    name: 'setopsd_webhook_deliveries_total',
    help: 'Webhook deliveries by provider and result.',
    labelNames: ['provider', 'result'] as const,
    registers,
  });
  const notifications = new Counter({
    name: 'setopsd_notifications_total',
    help: 'Notifications sent to stage targets, by channel (webhook, email) and result (delivered, failed after its retries).',
    labelNames: ['channel', 'result'] as const,
    registers,
  });
  for (const channel of ['webhook', 'email']) for (const result of ['delivered', 'failed']) notifications.inc({ channel, result }, 0);
  const backupRuns = new Counter({
    name: 'setopsd_scheduled_backups_total',
    help: 'Scheduled backups the daemon took, by result (completed, failed); a failed one is also recorded, logged and notified.',
    labelNames: ['result'] as const,
    registers,
  });
  for (const result of ['completed', 'failed']) backupRuns.inc({ result }, 0);
  // Zero-valued series from the start, so rate() and alerts see the counters before the first event.
  fetchFailures.inc(0);
  for (const result of ['succeeded', 'failed', 'refused']) applies.inc({ result }, 0);

  const appliedCommit = new Map<string, string>();
  const setStageStatus = (stage: string, state: StageState | null) => {
    const key = stageLabel(stage);
    for (const s of STAGE_STATES) stageStatus.set({ stage: key, state: s }, s === state ? 1 : 0);
  };
  const setLastApplied = (stage: string, commit: string | null) => {
    const key = stageLabel(stage);
    const label = commitLabel(commit);
    const before = appliedCommit.get(key);
    if (before === label) return;
    if (before !== undefined) lastApplied.remove({ stage: key, commit: before });
    lastApplied.set({ stage: key, commit: label }, 1);
    appliedCommit.set(key, label);
  };

  return {
    registry,
    observe(event) {
      switch (event.type) {
        case 'source-error':
          fetchFailures.inc();
          return;
        case 'apply': {
          const e = event.event;
          if (e.type === 'started') setStageStatus(event.stage, 'reconciling');
          else if (e.type === 'refused') applies.inc({ result: 'refused' });
          else if (e.type === 'finished') {
            const result = e.deployment.status === 'succeeded' ? 'succeeded' : 'failed';
            duration.observe({ stage: stageLabel(event.stage), result }, e.durationMs / 1000);
            applies.inc({ result });
            if (result === 'succeeded' && e.deployment.kind === 'apply') {
              setStageStatus(event.stage, 'ready');
              setLastApplied(event.stage, e.deployment.commit);
            }
          }
          return;
        }
        default:
          return;
      }
    },
    setQueueDepth(depth) {
      queueDepth.set(Number.isFinite(depth) && depth >= 0 ? depth : 0);
    },
    setStageStatus,
    setLastApplied,
    setDrift(stage, changes) {
      drift.set({ stage: stageLabel(stage) }, Number.isFinite(changes) && changes >= 0 ? changes : 0);
    },
    webhookDelivery(provider, result) {
      webhooks.inc({ provider: wordLabel(provider), result: wordLabel(result) });
    },
    backupResult(result) {
      backupRuns.inc({ result });
    },
    notificationDelivery(channel, result) {
      notifications.inc({ channel: wordLabel(channel), result });
    },
    forgetStage(stage) {
      const key = stageLabel(stage);
      for (const s of STAGE_STATES) stageStatus.remove({ stage: key, state: s });
      const commit = appliedCommit.get(key);
      if (commit !== undefined) lastApplied.remove({ stage: key, commit });
      appliedCommit.delete(key);
      drift.remove({ stage: key });
      for (const result of ['succeeded', 'failed']) duration.remove({ stage: key, result });
    },
  };
}

const NAME = '[a-z0-9][a-z0-9_-]{0,62}';
const STAGE_RE = new RegExp(`^${NAME}/${NAME}/${NAME}$`);

/** `org/project/stage` as a label; anything else (which no manifest allows) becomes `invalid`. */
export function stageLabel(stage: string): string {
  return STAGE_RE.test(stage) ? stage : 'invalid';
}

/** A commit id as a label: hex only; `none` when unknown (a directory source), `unknown` when it does not look like one. */
export function commitLabel(commit: string | null): string {
  if (commit === null) return 'none';
  return /^[0-9a-f]{4,64}$/i.test(commit) ? commit.toLowerCase() : 'unknown';
}

/** A provider or result word: lowercase letters, digits, `-` and `_`, at most 32; else `other`. */
export function wordLabel(word: string): string {
  return /^[a-z][a-z0-9_-]{0,31}$/.test(word) ? word : 'other';
}
