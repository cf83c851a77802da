import type { Clock } from '../deps.js';
import { CanceledError, SetopsError } from '../errors.js';
import { realClock } from '../sleep.js';

/**
 * A work queue of stage keys with one reconcile at a time per key, modelled on client-go's
 * `util/workqueue` (queue + dirty set + processing set, per-item exponential backoff) and
 * controller-runtime's controller (requeue after a delay, terminal errors are not retried).
 *
 * A key is in at most one of these states: waiting (in FIFO order), in progress, or neither;
 * independently it may have one scheduled re-add (a timer). Adding a key that is in progress
 * marks it dirty: it runs once more after the current run, however many adds came meanwhile.
 * Starting a run cancels the key's scheduled re-add: that run's outcome decides the next one.
 */

/** What a reconcile asks for when it succeeds: run the key again after this many ms. */
export interface ReconcileResult {
  /** A positive number schedules a re-add after that delay; 0 or absent: run again only on `add`. */
  requeueAfterMs?: number;
}

/** Brings one key to its desired state. Must honour `signal` (aborted at shutdown after the grace period). */
export type Reconcile = (key: string, signal: AbortSignal) => Promise<ReconcileResult | void>;

/** Injectable timers (the global ones by default). */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Per-key exponential backoff after retryable failures: `baseMs · 2^(failures-1)`, capped at `maxMs`, ± `jitter`. */
export interface Backoff {
  baseMs: number;
  maxMs: number;
  /** Relative spread, 0 ≤ jitter < 1: the delay is multiplied by a factor in `[1 - jitter, 1 + jitter)`. */
  jitter: number;
}

/** Defaults: 4 keys at once; backoff 5 s doubling to 5 min with ±10 % jitter. */
export const DEFAULT_CONCURRENCY = 4;
export const DEFAULT_BACKOFF: Readonly<Backoff> = { baseMs: 5_000, maxMs: 300_000, jitter: 0.1 };

/** Longest delay a timer can take (setTimeout fires at once beyond 2^31-1 ms); longer delays are clamped to it. */
export const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * What the queue reports, for logs and metrics. Durations are measured with the injected clock.
 *
 * - `started`: a run began; `waitedMs` since the key became waiting, `attempt` is 1 + consecutive failures.
 * - `succeeded`: the run resolved; the key's failure count is forgotten.
 * - `failed`: the run threw. `outcome` `requeued`: a retryable error (`SetopsError` with
 *   `retryable: true`), the key comes back after `retryAfterMs` of backoff; `terminal`: not
 *   retried, only a later `add` runs it again; `shutdown`: the queue is shutting down, nothing is requeued.
 * - `requeued`: the key will be added again after `afterMs`: `requeue-after` (the reconcile asked),
 *   `backoff` (retryable failure) or `dirty` (added while it ran: runs again at once, `afterMs` 0).
 */
export type WorkQueueEvent =
  | { type: 'started'; key: string; waitedMs: number; attempt: number }
  | { type: 'succeeded'; key: string; durationMs: number; requeueAfterMs?: number }
  | {
      type: 'failed';
      key: string;
      durationMs: number;
      error: unknown;
      failures: number;
      outcome: 'requeued' | 'terminal' | 'shutdown';
      retryAfterMs?: number;
    }
  | { type: 'requeued'; key: string; afterMs: number; reason: 'requeue-after' | 'backoff' | 'dirty' };

export interface WorkQueueOptions {
  /** Most keys reconciled at once (default 4). */
  concurrency?: number;
  /** Backoff after retryable failures; missing fields take {@link DEFAULT_BACKOFF}'s. */
  backoff?: Partial<Backoff>;
  clock?: Clock;
  timers?: Timers;
  /** Uniform in [0, 1), for jitter (default `Math.random`). */
  random?: () => number;
  /**
   * Called synchronously for every {@link WorkQueueEvent}. An exception it throws is caught and
   * dropped so that the queue's bookkeeping stays consistent: keep it to logging and counting.
   */
  onEvent?: (event: WorkQueueEvent) => void;
}

/** Options of {@link WorkQueue.shutdown}. */
export interface ShutdownOptions {
  /** How long running reconciles may go on before their signal is aborted. */
  graceMs: number;
  /** Aborting it ends the grace period at once (e.g. a second SIGTERM). */
  signal?: AbortSignal;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * The backoff delay before retry number `failures` (1 for the first failure):
 * `min(maxMs, baseMs · 2^(failures-1))` times a jitter factor `1 + jitter · (2·random() - 1)`,
 * rounded to whole milliseconds.
 */
export function backoffDelay(failures: number, backoff: Backoff, random: () => number): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 64);
  const capped = Math.min(backoff.maxMs, backoff.baseMs * 2 ** exponent);
  const factor = 1 + backoff.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(capped * factor));
}

/** Whether a failed run is retried with backoff: only a SetopsError that says it is retryable. */
export function isRetryable(error: unknown): boolean {
  return error instanceof SetopsError && error.retryable === true;
}

interface Running {
  startedAt: number;
  /** Set when the key was added while it ran: when it became dirty. */
  dirtySince: number | undefined;
}

/** See the module comment for the semantics. */
export class WorkQueue {
  readonly #reconcile: Reconcile;
  readonly #concurrency: number;
  readonly #backoff: Backoff;
  readonly #clock: Clock;
  readonly #timers: Timers;
  readonly #random: () => number;
  readonly #onEvent: ((event: WorkQueueEvent) => void) | undefined;

  /** Waiting keys in FIFO order, with the time each became waiting. */
  readonly #waiting = new Map<string, number>();
  readonly #running = new Map<string, Running>();
  readonly #scheduled = new Map<string, { at: number; handle: unknown }>();
  readonly #failures = new Map<string, number>();
  readonly #idle: (() => void)[] = [];
  /** Aborted when the grace period of a shutdown is over; every run gets its signal. */
  readonly #abort = new AbortController();
  #shutdown: Promise<void> | undefined;

  constructor(reconcile: Reconcile, opts: WorkQueueOptions = {}) {
    const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`work queue: concurrency must be a whole number ≥ 1, got ${concurrency}`);
    }
    const backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
    if (!(backoff.baseMs > 0) || !(backoff.maxMs >= backoff.baseMs) || !(backoff.jitter >= 0 && backoff.jitter < 1)) {
      throw new RangeError(
        `work queue: backoff needs baseMs > 0, maxMs ≥ baseMs and 0 ≤ jitter < 1, got ${JSON.stringify(backoff)}`,
      );
    }
    this.#reconcile = reconcile;
    this.#concurrency = concurrency;
    this.#backoff = backoff;
    this.#clock = opts.clock ?? realClock;
    this.#timers = opts.timers ?? realTimers;
    this.#random = opts.random ?? Math.random;
    this.#onEvent = opts.onEvent;
  }

  /**
   * Enqueues `key`. A waiting key keeps its place; a key in progress is marked dirty and runs
   * once more after the current run. Ignored once {@link shutdown} was called.
   */
  add(key: string): void {
    if (this.#shutdown) return;
    const running = this.#running.get(key);
    if (running) {
      running.dirtySince ??= this.#clock.now();
      return;
    }
    if (this.#waiting.has(key)) return;
    this.#waiting.set(key, this.#clock.now());
    this.#pump();
  }

  /**
   * Adds `key` after `ms` milliseconds (clamped to {@link MAX_DELAY_MS}). A key has at most one
   * scheduled re-add: the earlier one is kept. Ignored once {@link shutdown} was called.
   */
  addAfter(key: string, ms: number): void {
    this.#schedule(key, ms);
  }

  /** Forgets the key's consecutive failures: its next retryable failure backs off from `baseMs` again. */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** Consecutive failures of `key` (retryable or terminal) since its last success or {@link forget}. */
  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Number of waiting keys. */
  depth(): number {
    return this.#waiting.size;
  }

  /** Number of keys being reconciled now. */
  inProgress(): number {
    return this.#running.size;
  }

  /** Number of keys with a scheduled re-add (requeue-after or backoff). */
  scheduled(): number {
    return this.#scheduled.size;
  }

  /** Resolves once no key is waiting or in progress (scheduled re-adds may remain). */
  idle(): Promise<void> {
    if (this.#waiting.size === 0 && this.#running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /**
   * Stops taking work: later adds are ignored, waiting keys and scheduled re-adds are dropped.
   * Running reconciles may finish within `graceMs` (or until `signal` aborts); then their signal
   * is aborted with a CanceledError. Resolves once every run has settled (so reconciles must
   * honour their signal). Calling it again returns the same promise; a `signal` given then still
   * ends the grace period.
   */
  shutdown(opts: ShutdownOptions): Promise<void> {
    if (this.#shutdown) {
      this.#endGraceOn(opts.signal);
      return this.#shutdown;
    }
    this.#waiting.clear();
    for (const { handle } of this.#scheduled.values()) this.#timers.clearTimeout(handle);
    this.#scheduled.clear();
    this.#shutdown = this.#drain(opts);
    return this.#shutdown;
  }

  async #drain({ graceMs, signal }: ShutdownOptions): Promise<void> {
    const settled = this.idle();
    if (this.#running.size === 0) return;
    let timer: unknown;
    const graceOver = new Promise<void>((resolve) => {
      timer = this.#timers.setTimeout(resolve, Math.min(Math.max(graceMs, 0), MAX_DELAY_MS));
      this.#endGrace = resolve;
    });
    this.#endGraceOn(signal);
    await Promise.race([settled, graceOver]);
    this.#timers.clearTimeout(timer);
    if (this.#running.size > 0) {
      this.#abort.abort(new CanceledError(`work queue: shutting down, the grace period of ${graceMs} ms is over`));
    }
    await settled;
  }

  #endGrace: (() => void) | undefined;

  #endGraceOn(signal: AbortSignal | undefined): void {
    if (!signal) return;
    const end = () => this.#endGrace?.();
    if (signal.aborted) end();
    else signal.addEventListener('abort', end, { once: true });
  }

  #pump(): void {
    while (!this.#shutdown && this.#running.size < this.#concurrency) {
      const next = this.#waiting.entries().next();
      if (next.done) break;
      const [key, since] = next.value;
      this.#waiting.delete(key);
      this.#start(key, since);
    }
  }

  #start(key: string, since: number): void {
    const scheduled = this.#scheduled.get(key);
    if (scheduled) {
      this.#timers.clearTimeout(scheduled.handle);
      this.#scheduled.delete(key);
    }
    const startedAt = this.#clock.now();
    this.#running.set(key, { startedAt, dirtySince: undefined });
    this.#emit({ type: 'started', key, waitedMs: startedAt - since, attempt: this.failures(key) + 1 });
    const signal = this.#abort.signal;
    // The reconcile runs on a microtask: a synchronous throw becomes a rejection, and `add`
    // never calls into it re-entrantly.
    Promise.resolve()
      .then(() => this.#reconcile(key, signal))
      .then(
        (result) => this.#finish(key, { ok: true, result: result ?? {} }),
        (error: unknown) => this.#finish(key, { ok: false, error }),
      );
  }

  #finish(key: string, outcome: { ok: true; result: ReconcileResult } | { ok: false; error: unknown }): void {
    const running = this.#running.get(key)!;
    this.#running.delete(key);
    const durationMs = this.#clock.now() - running.startedAt;
    const dirty = running.dirtySince !== undefined && !this.#shutdown;

    if (outcome.ok) {
      this.#failures.delete(key);
      const after = outcome.result.requeueAfterMs;
      const requeueAfterMs = typeof after === 'number' && after > 0 && Number.isFinite(after) ? after : undefined;
      this.#emit({ type: 'succeeded', key, durationMs, ...(requeueAfterMs === undefined ? {} : { requeueAfterMs }) });
      // A dirty key runs again at once; that run's result sets the next requeue.
      if (requeueAfterMs !== undefined && !dirty) this.#schedule(key, requeueAfterMs, 'requeue-after');
    } else if (this.#shutdown) {
      this.#emit({ type: 'failed', key, durationMs, error: outcome.error, failures: this.failures(key), outcome: 'shutdown' });
    } else {
      const failures = this.failures(key) + 1;
      this.#failures.set(key, failures);
      if (isRetryable(outcome.error)) {
        const retryAfterMs = backoffDelay(failures, this.#backoff, this.#random);
        this.#emit({ type: 'failed', key, durationMs, error: outcome.error, failures, outcome: 'requeued', retryAfterMs });
        if (!dirty) this.#schedule(key, retryAfterMs, 'backoff');
      } else {
        this.#emit({ type: 'failed', key, durationMs, error: outcome.error, failures, outcome: 'terminal' });
      }
    }

    if (dirty) {
      this.#waiting.set(key, running.dirtySince!);
      this.#emit({ type: 'requeued', key, afterMs: 0, reason: 'dirty' });
    }
    this.#pump();
    if (this.#waiting.size === 0 && this.#running.size === 0) {
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  #schedule(key: string, ms: number, reason?: 'requeue-after' | 'backoff'): void {
    if (this.#shutdown) return;
    const delay = Math.min(Math.max(Number.isFinite(ms) ? ms : MAX_DELAY_MS, 0), MAX_DELAY_MS);
    const at = this.#clock.now() + delay;
    const existing = this.#scheduled.get(key);
    if (existing && existing.at <= at) {
      if (reason) this.#emit({ type: 'requeued', key, afterMs: existing.at - this.#clock.now(), reason });
      return;
    }
    if (existing) this.#timers.clearTimeout(existing.handle);
    const handle = this.#timers.setTimeout(() => {
      if (this.#scheduled.get(key)?.handle !== handle) return;
      this.#scheduled.delete(key);
      this.add(key);
    }, delay);
    this.#scheduled.set(key, { at, handle });
    if (reason) this.#emit({ type: 'requeued', key, afterMs: delay, reason });
  }

  #emit(event: WorkQueueEvent): void {
    try {
      this.#onEvent?.(event);
    } catch {
      // See WorkQueueOptions.onEvent: a broken listener must not wedge the queue.
    }
  }
}
