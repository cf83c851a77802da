import { dirname } from 'node:path';
import { Previews, type PreviewSettings } from './previews.js';
import { PrComments } from './pr-comments.js';
import type { PullRequestEvent } from './webhooks.js';
import type { Deps } from '../deps.js';
import type { StageState } from '../state/status-record.js';
import { SetopsError, UsageError } from '../errors.js';
import type { EngineFactory } from '../operations/plan-stages.js';
import { Journal } from '../state/journal.js';
import { Notifier } from '../providers/notify/notifier.js';
import { ScheduledBackups } from './backup-schedules.js';
import { ScheduledRunNotices } from './task-notices.js';
import { Controller, parseKey, type DaemonEvent, type Shard } from './controller.js';
import { claimStateDir } from './instance.js';
import type { ForcePushGuard } from './sources/remote.js';
import type { ConfigSource } from './sources/source.js';
import { stageViews } from './stage-views.js';
import type { DaemonView } from './view.js';
import { WorkQueue } from './work-queue.js';

/** Everything `setopsd daemon` was told. */
export interface DaemonOptions {
  stateDir: string;
  source: ConfigSource;
  /** Read the source this often besides its own notifications (remote sources; 0: never). */
  pollMs: number;
  /** Vary each poll interval by up to this fraction either way (0.1: ±10%), so daemons do not poll in step. */
  pollJitter?: number;
  /** Webhooks (`POST /hooks/github`, `/hooks/gitlab`) are accepted with this secret; none: they answer 404. */
  webhookSecret?: string;
  concurrency: number;
  secretsFile?: string;
  shard?: Shard;
  /** How long applies in flight may finish after SIGTERM before they are canceled. */
  shutdownTimeoutMs: number;
  /** Starts the HTTP side once the daemon can answer; resolves to its URL and a close function. */
  listen?: (view: DaemonView, token: string) => Promise<{ url: string; close(): Promise<void> }>;
  /** Check every stage for drift this often (0: never); with `selfHeal`, a drifted stage is deployed again. */
  driftIntervalMs?: number;
  selfHeal?: boolean;
  /** Look for failed scheduled runs to notify this often (default 60 s; 0: never). AWS stages ask ECS each time. */
  taskCheckIntervalMs?: number;
  /** Wait this long after a change notification for more (a burst of saves or commits costs one read). */
  debounceMs?: number;
  onEvent?: (event: DaemonEvent) => void;
  /** Told the queue depth and each stage's state and last applied commit as they change. */
  metrics?: { setQueueDepth(depth: number): void; setStageStatus(stage: string, state: StageState | null): void; setLastApplied(stage: string, commit: string | null): void; setDrift(stage: string, findings: number): void; webhookDelivery?(provider: string, result: string): void; notificationDelivery?(channel: string, result: 'delivered' | 'failed'): void; backupResult?(result: 'completed' | 'failed'): void };
  /** Engines (tests: in-memory ones); default the registry. */
  engineFactory?: EngineFactory;
  /** `--preview-stages FROM=STAGE [--preview-branches GLOB]`: a `pr-<number>` stage per open pull request. */
  previews?: PreviewSettings;
  /** `--comment-prs`: pull_request webhooks plan the pull request and post its sticky comment (tokens from `deps.env`). */
  commentPrs?: boolean;
}

/** A running daemon: its view (for the HTTP side and tests) and a promise that settles when it has stopped. */
export interface RunningDaemon {
  view: DaemonView;
  url: string | null;
  /** Settles after `signal` aborted and everything stopped (applies finished or canceled, files released). */
  stopped: Promise<void>;
}

/**
 * Starts the daemon: claims the state directory (one daemon per state directory), reconciles
 * every stage once, then follows the source — each notification (or poll) reads the newest
 * revision and enqueues the stages whose desired state changed. Stops when `signal` aborts:
 * watching stops, no new work starts, applies in flight get `shutdownTimeoutMs` to finish and are
 * then canceled through their signals, the state directory is released.
 */
export async function startDaemon(deps: Deps, opts: DaemonOptions, signal: AbortSignal): Promise<RunningDaemon> {
  // Refused before the state directory is claimed: a source without branches cannot have previews.
  const previews = opts.previews ? new Previews(opts.stateDir, opts.source, opts.previews, deps) : undefined;
  if (opts.commentPrs && !opts.source.readBranch) throw new UsageError(`--comment-prs needs a git repository source with branches; ${opts.source.description} has none`);
  if (opts.commentPrs && !opts.webhookSecret) throw new UsageError('--comment-prs acts on pull_request webhooks: set SETOPSD_WEBHOOK_SECRET and point the webhook at POST /hooks/github or /hooks/gitlab');
  const claim = await claimStateDir(opts.stateDir, deps);
  await previews?.load();
  const listeners = new Set<(event: DaemonEvent) => void>();
  const emit = (event: DaemonEvent) => {
    opts.onEvent?.(event);
    for (const l of listeners) l(event);
  };
  let controller!: Controller;
  const queue = new WorkQueue((key, s) => controller.reconcile(key, s), {
    concurrency: opts.concurrency,
    clock: deps.clock,
    onEvent: (e) => {
      opts.metrics?.setQueueDepth(queue.depth());
      if (e.type === 'succeeded' || e.type === 'failed') void reportStage(e.key);
      if (e.type === 'failed') deps.log.warn({ stage: e.key, failures: e.failures, outcome: e.outcome, code: (e.error as SetopsError)?.code }, `stage ${e.key}: ${(e.error as Error)?.message ?? String(e.error)}`);
    },
  });
  const notifier = new Notifier({ log: deps.log, sleep: deps.sleep, onDelivery: (o) => opts.metrics?.notificationDelivery?.(o.channel, o.ok ? 'delivered' : 'failed') });
  controller = new Controller(
    { deps, stateDir: opts.stateDir, notifier, source: opts.source, ...(previews ? { previews } : {}), ...(opts.secretsFile ? { secretsFile: opts.secretsFile } : {}), ...(opts.shard ? { shard: opts.shard } : {}), ...(opts.engineFactory ? { engineFactory: opts.engineFactory } : {}), onEvent: emit },
    (key) => {
      queue.add(key);
      opts.metrics?.setQueueDepth(queue.depth());
    },
  );
  const backups = new ScheduledBackups({
    deps,
    stateDir: opts.stateDir,
    notifier,
    ...(opts.secretsFile ? { secretsFile: opts.secretsFile } : {}),
    owns: (key) => controller.owns(key),
    onResult: (_stage, _service, result) => opts.metrics?.backupResult?.(result),
  });
  const runNotices = new ScheduledRunNotices({
    deps,
    stateDir: opts.stateDir,
    notifier,
    ...(opts.secretsFile ? { secretsFile: opts.secretsFile } : {}),
    configRoot: () => controller.snapshot().configRoot || dirname(opts.stateDir),
    owns: (key) => controller.owns(key),
    ...(opts.engineFactory ? { engineFactory: opts.engineFactory } : {}),
  });
  const refreshBackups = () => void backups.refresh().catch((err: unknown) => deps.log.warn({ err: errorFields(err) }, `scheduled backups: ${(err as Error).message}`));
  listeners.add((e) => {
    if (e.type === 'apply' && e.event.type === 'finished') refreshBackups();
  });
  const reportStage = async (key: string) => {
    const record = await controller.record(key).catch(() => null);
    opts.metrics?.setStageStatus(key, record?.state ?? null);
    if (record) opts.metrics?.setLastApplied(key, record.lastAppliedRevision);
  };

  // One read of the source at a time; notifications during a read make exactly one more.
  const work = new AbortController();
  const stopWork = () => work.abort(signal.reason);
  signal.addEventListener('abort', stopWork, { once: true });
  let reading: Promise<void> | null = null;
  let again = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const readNow = (): Promise<void> => {
    if (reading) {
      again = true;
      return reading;
    }
    reading = (async () => {
      do {
        again = false;
        await controller.sync(work.signal).catch((err: unknown) => {
          if (!work.signal.aborted) deps.log.error({ err: errorFields(err) }, `source ${opts.source.description}: ${(err as Error).message}`);
        });
      } while (again && !work.signal.aborted);
    })().finally(() => {
      reading = null;
    });
    return reading;
  };
  const inFlight = (): Promise<void> => reading ?? Promise.resolve();
  const prComments = opts.commentPrs
    ? new PrComments(deps, { stateDir: opts.stateDir, source: opts.source, ...(opts.secretsFile ? { secretsFile: opts.secretsFile } : {}), ...(opts.engineFactory ? { engineFactory: opts.engineFactory } : {}) }, work.signal)
    : undefined;
  const pullRequest =
    previews || prComments
      ? async (event: PullRequestEvent): Promise<Record<string, unknown>> => {
          const out: Record<string, unknown> = {};
          if (previews) {
            const preview = await previews.pullRequest(event);
            void readNow();
            out.preview = preview || !event.open ? `pr-${event.number}` : 'none: pull requests from forks get no preview stage';
          }
          if (prComments) out.comment = prComments.pullRequest(event) ? 'planning' : `left alone: ${event.open ? `action ${event.action} does not change the plan` : 'the pull request is closed'}`;
          return out;
        }
      : undefined;
  const soon = (why: string) => {
    if (work.signal.aborted) return;
    deps.log.debug({ why }, 'source changed');
    clearTimeout(timer);
    timer = setTimeout(() => void readNow(), opts.debounceMs ?? 50);
  };

  const view: DaemonView = {
    source: opts.source.description,
    readiness: async () => {
      const error = controller.error();
      const checks = {
        'first-sync': { ok: controller.ready() },
        source: error && error.code !== 'E_VALIDATION' ? { ok: false, message: error.message } : { ok: true },
      };
      return { ready: Object.values(checks).every((c) => c.ok) && !work.signal.aborted, checks };
    },
    revision: () => {
      const snap = controller.snapshot();
      const error = controller.error();
      return { commit: snap.commit, valid: snap.stages !== null, issues: snap.issues ?? [], ...(error ? { error: { code: error.code, message: error.message } } : {}) };
    },
    stages: () => stageViews(controller, opts.stateDir, deps),
    stage: async (key) => (await stageViews(controller, opts.stateDir, deps, key))[0] ?? null,
    deployments: async (key, limit) => (await new Journal(opts.stateDir, parseKey(key), () => deps.clock.now()).list()).reverse().slice(0, limit),
    approve: (key, id) => controller.approve(key, id),
    retry: async (key) => controller.retry(key),
    sync: (how) => {
      // An explicit `setopsd sync` accepts a head the source refused as a force-push.
      if (how?.acceptForcePush) (opts.source as Partial<ForcePushGuard>).acceptForcePush?.();
      return readNow();
    },
    ...(opts.webhookSecret
      ? {
          webhook: {
            secret: opts.webhookSecret,
            branch: opts.source.branch ?? null,
            delivered: (provider: string, result: string) => opts.metrics?.webhookDelivery?.(provider, result),
            ...(pullRequest ? { pullRequest } : {}),
          },
        }
      : {}),
    checkDrift: () => driftCheck(),
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };

  const server = opts.listen ? await opts.listen(view, claim.token) : null;
  if (server) await claim.publish({ url: server.url, startedAt: new Date(deps.clock.now()).toISOString(), source: opts.source.description });
  const stopWatching = await opts.source.watch(soon);
  let poll: ReturnType<typeof setTimeout> | undefined;
  const schedulePoll = () => {
    const jitter = Math.min(Math.max(opts.pollJitter ?? 0, 0), 0.5);
    const ms = Math.round(opts.pollMs * (1 + jitter * (2 * Math.random() - 1)));
    poll = setTimeout(() => {
      soon('poll');
      if (!work.signal.aborted) schedulePoll();
    }, ms);
  };
  if (opts.pollMs > 0) schedulePoll();
  let checking = false;
  const driftCheck = async () => {
    if (checking || work.signal.aborted) return;
    checking = true;
    try {
      for (const key of await controller.stageKeys()) {
        if (work.signal.aborted) break;
        const findings = await controller.checkDrift(key, opts.selfHeal === true, work.signal).catch((err: unknown) => {
          if (!work.signal.aborted) deps.log.warn({ stage: key, err: errorFields(err) }, `stage ${key}: drift check failed: ${(err as Error).message}`);
          return null;
        });
        if (findings !== null) opts.metrics?.setDrift(key, findings.length);
      }
    } finally {
      checking = false;
    }
  };
  const drift = opts.driftIntervalMs ? setInterval(() => void driftCheck(), opts.driftIntervalMs) : undefined;
  // Failed scheduled runs: one check at a time, beside the queue (a reconcile never waits for it).
  let taskCheck: Promise<void> | null = null;
  const checkTasks = () => {
    if (taskCheck || work.signal.aborted) return;
    taskCheck = runNotices
      .check(work.signal)
      .then(
        () => undefined,
        (err: unknown) => {
          if (!work.signal.aborted) deps.log.warn({ err: errorFields(err) }, `scheduled runs: ${(err as Error).message}`);
        },
      )
      .finally(() => (taskCheck = null));
  };
  const taskCheckMs = opts.taskCheckIntervalMs ?? 60_000;
  const tasks = taskCheckMs > 0 ? setInterval(checkTasks, taskCheckMs) : undefined;
  await readNow();
  refreshBackups();
  if (taskCheckMs > 0) checkTasks();

  const stopped = (async () => {
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
    clearTimeout(poll);
    clearInterval(drift);
    clearInterval(tasks);
    clearTimeout(timer);
    await stopWatching();
    await inFlight(); // the read in flight, if any, ends: the work signal is aborted
    await prComments?.idle();
    backups.stop();
    await taskCheck; // before the notifier drains: its notices are in flight by then
    await queue.shutdown({ graceMs: opts.shutdownTimeoutMs });
    await notifier.drain(opts.shutdownTimeoutMs);
    await server?.close();
    await claim.release();
  })();
  return { view, url: server?.url ?? null, stopped };
}

function errorFields(err: unknown): Record<string, unknown> {
  return err instanceof SetopsError ? { code: err.code, message: err.message } : { message: (err as Error)?.message ?? String(err) };
}
