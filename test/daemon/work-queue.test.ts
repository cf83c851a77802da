import t from 'tap';
import {
  DEFAULT_BACKOFF,
  MAX_DELAY_MS,
  WorkQueue,
  backoffDelay,
  isRetryable,
  type ReconcileResult,
  type WorkQueueEvent,
  type WorkQueueOptions,
} from '../../src/daemon/work-queue.js';
import { CanceledError, EngineError, SetopsError, ValidationError } from '../../src/errors.js';
import { FakeTime, settle, until } from './fake-time.js';

/** One call of the controlled reconcile: the test settles it. */
interface Call {
  key: string;
  signal: AbortSignal;
  resolve(result?: ReconcileResult): void;
  reject(error: unknown): void;
  settled: boolean;
}

/**
 * A queue whose reconcile returns a promise the test settles by hand, on a fake clock, with
 * deterministic random (0.5: no jitter) and every event recorded. Counts concurrent runs.
 */
function harness(opts: WorkQueueOptions = {}) {
  const time = new FakeTime();
  const calls: Call[] = [];
  const events: WorkQueueEvent[] = [];
  const runningKeys = new Map<string, number>();
  const stats = { maxConcurrent: 0, maxPerKey: 0 };
  const queue = new WorkQueue(
    (key, signal) =>
      new Promise<ReconcileResult>((resolve, reject) => {
        const perKey = (runningKeys.get(key) ?? 0) + 1;
        runningKeys.set(key, perKey);
        stats.maxPerKey = Math.max(stats.maxPerKey, perKey);
        stats.maxConcurrent = Math.max(stats.maxConcurrent, [...runningKeys.values()].reduce((a, b) => a + b, 0));
        const done = () => {
          call.settled = true;
          runningKeys.set(key, runningKeys.get(key)! - 1);
        };
        const call: Call = {
          key,
          signal,
          settled: false,
          resolve: (result = {}) => {
            done();
            resolve(result);
          },
          reject: (error) => {
            done();
            reject(error);
          },
        };
        calls.push(call);
      }),
    { clock: time, timers: time, random: () => 0.5, onEvent: (e) => events.push(e), ...opts },
  );
  const open = () => calls.filter((c) => !c.settled);
  /** The one open call of `key` (fails the test when there is none or several). */
  const current = (key: string): Call => {
    const found = open().filter((c) => c.key === key);
    if (found.length !== 1) throw new Error(`expected one open call of ${key}, found ${found.length}`);
    return found[0]!;
  };
  const callsOf = (key: string) => calls.filter((c) => c.key === key).length;
  const ofType = <T extends WorkQueueEvent['type']>(type: T) =>
    events.filter((e): e is Extract<WorkQueueEvent, { type: T }> => e.type === type);
  return { time, queue, calls, events, stats, open, current, callsOf, ofType };
}

const retryable = () => new EngineError('stage acme/shop/staging: engine unreachable; it is retried', { code: 'E_ENGINE' });

t.test('a key added 50 times while it runs runs exactly once more', async (t) => {
  const h = harness();
  h.queue.add('acme/shop/staging');
  t.equal(h.queue.inProgress(), 1, 'in progress at once');
  t.equal(h.queue.depth(), 0);
  await until(() => h.calls.length === 1, 'first run');
  for (let i = 0; i < 50; i++) h.queue.add('acme/shop/staging');
  t.equal(h.queue.depth(), 0, 'a key in progress is not also waiting');
  t.equal(h.queue.inProgress(), 1);
  await settle();
  t.equal(h.calls.length, 1, 'no second run while the first is in progress');

  h.current('acme/shop/staging').resolve();
  await until(() => h.calls.length === 2, 'the one extra run');
  t.same(
    h.ofType('requeued').map((e) => [e.reason, e.afterMs]),
    [['dirty', 0]],
  );
  h.current('acme/shop/staging').resolve();
  await h.queue.idle();
  await settle();
  t.equal(h.calls.length, 2, 'exactly one more run');
  t.equal(h.stats.maxPerKey, 1, 'never two runs of one key at once');
  t.equal(h.ofType('started').length, 2);
  t.equal(h.ofType('succeeded').length, 2);
});

t.test('adding a waiting key keeps its place; waiting keys run in FIFO order; at most `concurrency` run', async (t) => {
  const h = harness({ concurrency: 2 });
  for (const key of ['a', 'b', 'c', 'd', 'e']) h.queue.add(key);
  h.queue.add('d');
  h.queue.add('c');
  t.equal(h.queue.inProgress(), 2);
  t.equal(h.queue.depth(), 3);
  await until(() => h.calls.length === 2, 'two runs');
  t.same(h.calls.map((c) => c.key), ['a', 'b']);

  h.current('b').resolve();
  await until(() => h.calls.length === 3, 'c starts');
  t.equal(h.calls[2]!.key, 'c');
  h.queue.add('b'); // b is idle again: goes to the end
  h.current('a').reject(new Error('bug'));
  await until(() => h.calls.length === 4, 'd starts');
  h.current('c').resolve();
  h.current('d').resolve();
  await until(() => h.calls.length === 6, 'e and b start');
  for (const call of h.open()) call.resolve();
  await h.queue.idle();
  t.same(h.calls.map((c) => c.key), ['a', 'b', 'c', 'd', 'e', 'b']);
  t.equal(h.stats.maxConcurrent, 2, 'never more than 2 at once');
  t.equal(h.stats.maxPerKey, 1);
});

t.test('the default concurrency is 4', async (t) => {
  const h = harness();
  for (let i = 0; i < 10; i++) h.queue.add(`k${i}`);
  await until(() => h.calls.length === 4, 'four runs');
  t.equal(h.queue.inProgress(), 4);
  t.equal(h.queue.depth(), 6);
  while (h.open().length > 0) {
    h.open()[0]!.resolve();
    await settle();
  }
  await h.queue.idle();
  t.equal(h.calls.length, 10);
  t.equal(h.stats.maxConcurrent, 4);
});

t.test('retryable failures back off per key: 5s, 10s, 20s … capped at 5 min', async (t) => {
  const h = harness();
  h.queue.add('k');
  const delays: number[] = [];
  for (let attempt = 1; attempt <= 9; attempt++) {
    await until(() => h.calls.length === attempt, `attempt ${attempt}`);
    t.equal(h.ofType('started').at(-1)!.attempt, attempt);
    h.current('k').reject(retryable());
    await until(() => h.queue.scheduled() === 1, 'retry scheduled');
    const failed = h.ofType('failed').at(-1)!;
    t.equal(failed.outcome, 'requeued');
    t.equal(failed.failures, attempt);
    t.equal(h.queue.failures('k'), attempt);
    const delay = failed.retryAfterMs!;
    delays.push(delay);
    t.same(h.time.pending(), [delay], 'one timer with that delay');
    h.time.advance(delay - 1);
    await settle();
    t.equal(h.calls.length, attempt, 'not retried before the delay is over');
    h.time.advance(1);
  }
  t.same(delays, [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  t.same(
    h.ofType('requeued').map((e) => e.afterMs),
    delays,
    'requeued events name the same delays',
  );
  t.ok(h.ofType('requeued').every((e) => e.reason === 'backoff'));
  await until(() => h.calls.length === 10, 'tenth attempt');
  h.current('k').resolve();
  await h.queue.idle();
});

t.test('backoff is per key', async (t) => {
  const h = harness();
  h.queue.add('a');
  await until(() => h.calls.length === 1, 'a runs');
  h.current('a').reject(retryable());
  await until(() => h.queue.scheduled() === 1, 'a scheduled');
  h.time.advance(5_000);
  await until(() => h.calls.length === 2, 'a again');
  h.current('a').reject(retryable());
  h.queue.add('b');
  await until(() => h.calls.length === 3, 'b runs');
  h.current('b').reject(retryable());
  await until(() => h.queue.scheduled() === 2, 'both scheduled');
  t.same(h.time.pending(), [5_000, 10_000], 'b starts at 5 s, a is at 10 s');
  t.equal(h.queue.failures('a'), 2);
  t.equal(h.queue.failures('b'), 1);
});

t.test('success forgets the failures: the next failure backs off from 5 s again', async (t) => {
  const h = harness();
  h.queue.add('k');
  for (let attempt = 1; attempt <= 3; attempt++) {
    await until(() => h.calls.length === attempt, `attempt ${attempt}`);
    h.current('k').reject(retryable());
    await until(() => h.queue.scheduled() === 1, 'scheduled');
    h.time.advance(h.time.pending()[0]!);
  }
  t.same(h.ofType('failed').map((e) => e.retryAfterMs), [5_000, 10_000, 20_000]);
  await until(() => h.calls.length === 4, 'fourth attempt');
  h.current('k').resolve();
  await h.queue.idle();
  t.equal(h.queue.failures('k'), 0, 'forgotten on success');
  t.equal(h.queue.scheduled(), 0, 'nothing scheduled after a plain success');
  h.queue.add('k');
  await until(() => h.calls.length === 5, 'fifth');
  h.current('k').reject(retryable());
  await until(() => h.queue.scheduled() === 1, 'scheduled');
  t.equal(h.ofType('failed').at(-1)!.retryAfterMs, 5_000);
});

t.test('forget resets the backoff without a success', async (t) => {
  const h = harness();
  h.queue.add('k');
  await until(() => h.calls.length === 1, 'run');
  h.current('k').reject(retryable());
  await until(() => h.queue.scheduled() === 1, 'scheduled');
  h.time.advance(5_000);
  await until(() => h.calls.length === 2, 'second');
  t.equal(h.queue.failures('k'), 1);
  h.queue.forget('k');
  t.equal(h.queue.failures('k'), 0);
  h.current('k').reject(retryable());
  await until(() => h.queue.scheduled() === 1, 'scheduled');
  t.equal(h.ofType('failed').at(-1)!.retryAfterMs, 5_000);
});

t.test('terminal errors are not retried; a later add runs the key again', async (t) => {
  const terminal: [string, unknown][] = [
    ['a plain Error', new Error('bug')],
    ['a non-retryable SetopsError', new ValidationError([])],
    ['a SetopsError with retryable false', new EngineError('stage x: refused', { code: 'E_UNHEALTHY' })],
    ['a thrown string', 'oops'],
    ['a CanceledError', new CanceledError()],
    ['a look-alike object with retryable true', Object.assign(new Error('x'), { retryable: true })],
  ];
  for (const [what, error] of terminal) {
    const h = harness();
    h.queue.add('k');
    await until(() => h.calls.length === 1, 'run');
    h.current('k').reject(error);
    await h.queue.idle();
    const failed = h.ofType('failed');
    t.equal(failed.length, 1, what);
    t.equal(failed[0]!.outcome, 'terminal', `${what}: terminal`);
    t.equal(failed[0]!.error, error, `${what}: the event carries the error`);
    t.equal(failed[0]!.retryAfterMs, undefined);
    t.equal(h.queue.scheduled(), 0, `${what}: no retry scheduled`);
    t.same(h.time.pending(), []);
    h.time.advance(24 * 3_600_000);
    await settle();
    t.equal(h.calls.length, 1, `${what}: not run again by time alone`);
    t.equal(h.queue.failures('k'), 1, `${what}: counted as a failure`);
    h.queue.add('k');
    await until(() => h.calls.length === 2, 'runs again on add');
    h.current('k').resolve();
    await h.queue.idle();
  }
});

t.test('a reconcile that throws synchronously is a failure, not a crash', async (t) => {
  const time = new FakeTime();
  const events: WorkQueueEvent[] = [];
  const queue = new WorkQueue(
    () => {
      throw retryable();
    },
    { clock: time, timers: time, random: () => 0.5, onEvent: (e) => events.push(e) },
  );
  queue.add('k');
  await queue.idle();
  t.same(
    events.map((e) => e.type),
    ['started', 'failed', 'requeued'],
  );
  t.equal(queue.scheduled(), 1);
  await queue.shutdown({ graceMs: 0 });
});

t.test('requeueAfterMs re-adds the key after that delay; success also forgets failures', async (t) => {
  const h = harness();
  h.queue.add('k');
  await until(() => h.calls.length === 1, 'run');
  h.current('k').reject(retryable());
  await until(() => h.queue.scheduled() === 1, 'backoff');
  h.time.advance(5_000);
  await until(() => h.calls.length === 2, 'retry');
  h.current('k').resolve({ requeueAfterMs: 60_000 });
  await until(() => h.queue.scheduled() === 1, 'requeue scheduled');
  t.equal(h.queue.failures('k'), 0);
  t.same(h.time.pending(), [60_000]);
  t.same(h.ofType('succeeded').at(-1), { type: 'succeeded', key: 'k', durationMs: 0, requeueAfterMs: 60_000 });
  t.same(h.ofType('requeued').at(-1), { type: 'requeued', key: 'k', afterMs: 60_000, reason: 'requeue-after' });
  h.time.advance(59_999);
  await settle();
  t.equal(h.calls.length, 2);
  h.time.advance(1);
  await until(() => h.calls.length === 3, 'requeued run');
  t.equal(h.ofType('started').at(-1)!.waitedMs, 0);
  h.current('k').resolve({ requeueAfterMs: 0 });
  await h.queue.idle();
  t.equal(h.queue.scheduled(), 0, 'requeueAfterMs 0 schedules nothing');
});

t.test('an add while a re-add is scheduled runs now; the run cancels the scheduled one', async (t) => {
  const h = harness();
  h.queue.add('k');
  await until(() => h.calls.length === 1, 'run');
  h.current('k').reject(retryable());
  await until(() => h.queue.scheduled() === 1, 'backoff scheduled');
  h.queue.add('k'); // e.g. a webhook: new commit
  t.equal(h.queue.inProgress(), 1, 'runs at once, not after the backoff');
  t.equal(h.queue.scheduled(), 0, 'the scheduled retry is cancelled');
  t.same(h.time.pending(), []);
  await until(() => h.calls.length === 2, 'second run');
  h.current('k').resolve();
  await h.queue.idle();
  h.time.advance(10 * 60_000);
  await settle();
  t.equal(h.calls.length, 2, 'no stale retry later');
});

t.test('a key added while it runs and then failing runs again at once, without waiting for backoff', async (t) => {
  const h = harness();
  h.queue.add('k');
  await until(() => h.calls.length === 1, 'run');
  h.queue.add('k');
  h.current('k').reject(retryable());
  await until(() => h.calls.length === 2, 'dirty run');
  t.equal(h.queue.scheduled(), 0, 'no backoff timer: the dirty run decides');
  t.equal(h.ofType('failed')[0]!.outcome, 'requeued');
  t.same(h.ofType('requeued').map((e) => e.reason), ['dirty']);
  t.equal(h.ofType('started')[1]!.attempt, 2);
  h.current('k').reject(retryable());
  await until(() => h.queue.scheduled() === 1, 'backoff');
  t.equal(h.ofType('failed').at(-1)!.retryAfterMs, 10_000, 'failures still count up');
});

t.test('addAfter keeps the earliest scheduled re-add; delays are clamped to what a timer can take', async (t) => {
  const h = harness();
  h.queue.addAfter('k', 30_000);
  h.queue.addAfter('k', 60_000);
  t.same(h.time.pending(), [30_000]);
  h.queue.addAfter('k', 10_000);
  t.same(h.time.pending(), [10_000]);
  h.queue.addAfter('j', 10 * MAX_DELAY_MS);
  h.queue.addAfter('i', Number.POSITIVE_INFINITY);
  t.same(h.time.pending(), [10_000, MAX_DELAY_MS, MAX_DELAY_MS]);
  h.time.advance(10_000);
  await until(() => h.calls.length === 1, 'k runs');
  t.equal(h.calls[0]!.key, 'k');
});

t.test('shutdown: no new work, running reconciles get the grace period, then their signal aborts', async (t) => {
  const h = harness({ concurrency: 2 });
  h.queue.add('fast');
  h.queue.add('slow');
  h.queue.add('waiting');
  h.queue.addAfter('later', 1_000);
  await until(() => h.calls.length === 2, 'two runs');
  const slow = h.current('slow');
  slow.signal.addEventListener('abort', () => slow.reject(slow.signal.reason));

  let resolved = false;
  const done = h.queue.shutdown({ graceMs: 30_000 }).then(() => (resolved = true));
  t.equal(h.queue.depth(), 0, 'waiting keys dropped');
  t.equal(h.queue.scheduled(), 0, 'scheduled re-adds dropped');
  t.same(h.time.pending(), [30_000], 'only the grace timer');
  h.queue.add('new');
  t.equal(h.queue.depth(), 0, 'adds are ignored');

  h.current('fast').resolve({ requeueAfterMs: 1_000 });
  await settle();
  t.equal(h.queue.scheduled(), 0, 'a success during shutdown requeues nothing');
  t.equal(h.calls.length, 2, 'the waiting key never started');
  t.notOk(slow.signal.aborted, 'not aborted within the grace period');
  t.notOk(resolved, 'shutdown waits for the slow run');

  h.time.advance(29_999);
  await settle();
  t.notOk(slow.signal.aborted);
  t.notOk(resolved);
  h.time.advance(1);
  await until(() => slow.signal.aborted, 'aborted when the grace period is over');
  t.type(slow.signal.reason, CanceledError);
  await done;
  t.ok(resolved);
  t.equal(h.queue.inProgress(), 0);
  const failed = h.ofType('failed');
  t.equal(failed.length, 1);
  t.equal(failed[0]!.key, 'slow');
  t.equal(failed[0]!.outcome, 'shutdown');
  t.equal(h.queue.failures('slow'), 0, 'a shutdown is not counted as a failure');
  t.same(h.time.pending(), [], 'no timer left');
  t.equal(h.queue.shutdown({ graceMs: 0 }), h.queue.shutdown({ graceMs: 0 }), 'the same promise again');
});

t.test('shutdown resolves once runs finish within the grace period, without aborting', async (t) => {
  const h = harness();
  h.queue.add('k');
  await until(() => h.calls.length === 1, 'run');
  const call = h.current('k');
  const done = h.queue.shutdown({ graceMs: 30_000 });
  call.resolve();
  await done;
  t.notOk(call.signal.aborted);
  t.same(h.time.pending(), [], 'grace timer cleared');
});

t.test('shutdown with nothing running resolves at once', async (t) => {
  const h = harness();
  h.queue.addAfter('k', 5_000);
  await h.queue.shutdown({ graceMs: 30_000 });
  t.same(h.time.pending(), []);
});

t.test("shutdown's signal ends the grace period early, also when given to a second call", async (t) => {
  for (const how of ['first call', 'second call', 'already aborted'] as const) {
    const h = harness();
    h.queue.add('k');
    await until(() => h.calls.length === 1, 'run');
    const call = h.current('k');
    call.signal.addEventListener('abort', () => call.reject(new CanceledError()));
    const controller = new AbortController();
    if (how === 'already aborted') controller.abort();
    const done = h.queue.shutdown({ graceMs: 60_000, ...(how === 'second call' ? {} : { signal: controller.signal }) });
    if (how === 'second call') void h.queue.shutdown({ graceMs: 60_000, signal: controller.signal });
    await settle();
    t.equal(call.signal.aborted, how === 'already aborted', `${how}: aborted only once the signal is`);
    controller.abort();
    await done;
    t.ok(call.signal.aborted, `${how}: aborted`);
  }
});

t.test('a throwing onEvent does not wedge the queue', async (t) => {
  const time = new FakeTime();
  let runs = 0;
  const queue = new WorkQueue(
    async () => {
      runs++;
      return {};
    },
    {
      clock: time,
      timers: time,
      onEvent: () => {
        throw new Error('listener bug');
      },
    },
  );
  queue.add('a');
  queue.add('b');
  await queue.idle();
  t.equal(runs, 2);
  t.equal(queue.inProgress(), 0);
});

t.test('durations and waits come from the injected clock', async (t) => {
  const h = harness({ concurrency: 1 });
  h.queue.add('a');
  h.queue.add('b');
  await until(() => h.calls.length === 1, 'a runs');
  h.time.advance(1_500);
  h.current('a').resolve();
  await until(() => h.calls.length === 2, 'b runs');
  h.time.advance(250);
  h.current('b').reject(new Error('x'));
  await h.queue.idle();
  t.same(
    h.events.filter((e) => e.type !== 'requeued'),
    [
      { type: 'started', key: 'a', waitedMs: 0, attempt: 1 },
      { type: 'succeeded', key: 'a', durationMs: 1_500 },
      { type: 'started', key: 'b', waitedMs: 1_500, attempt: 1 },
      { type: 'failed', key: 'b', durationMs: 250, error: new Error('x'), failures: 1, outcome: 'terminal' },
    ],
  );
});

t.test('backoffDelay: doubling from base, capped, with jitter within ±jitter', async (t) => {
  const none = () => 0.5;
  const table: [number, number][] = [
    [0, 5_000],
    [1, 5_000],
    [2, 10_000],
    [3, 20_000],
    [6, 160_000],
    [7, 300_000],
    [8, 300_000],
    [1_000, 300_000],
    [Number.MAX_SAFE_INTEGER, 300_000],
  ];
  for (const [failures, ms] of table) t.equal(backoffDelay(failures, DEFAULT_BACKOFF, none), ms, `${failures} failures`);
  t.equal(backoffDelay(1, DEFAULT_BACKOFF, () => 0), 4_500, 'lowest jitter: -10 %');
  t.equal(backoffDelay(1, DEFAULT_BACKOFF, () => 0.999999), 5_500, 'highest jitter: +10 %');
  t.equal(backoffDelay(8, DEFAULT_BACKOFF, () => 0), 270_000);
  t.equal(backoffDelay(3, { baseMs: 100, maxMs: 1_000, jitter: 0 }, () => 0.9), 400);
  t.equal(backoffDelay(3, { baseMs: 100, maxMs: 250, jitter: 0 }, () => 0.9), 250);
});

t.test('jitter from the injected random spreads the retry', async (t) => {
  const h = harness({ random: () => 0.25 });
  h.queue.add('k');
  await until(() => h.calls.length === 1, 'run');
  h.current('k').reject(retryable());
  await until(() => h.queue.scheduled() === 1, 'scheduled');
  t.same(h.time.pending(), [4_750], '5 s · (1 + 0.1 · (2·0.25 - 1))');
});

t.test('isRetryable: only SetopsErrors that say so', async (t) => {
  t.ok(isRetryable(retryable()));
  t.ok(isRetryable(new SetopsError('x', { code: 'E_LOCKED' })));
  t.notOk(isRetryable(new SetopsError('x')));
  t.notOk(isRetryable(new Error('x')));
  t.notOk(isRetryable(undefined));
});

t.test('options are checked', async (t) => {
  const reconcile = async () => ({});
  t.throws(() => new WorkQueue(reconcile, { concurrency: 0 }), RangeError);
  t.throws(() => new WorkQueue(reconcile, { concurrency: 1.5 }), RangeError);
  t.throws(() => new WorkQueue(reconcile, { backoff: { baseMs: 0 } }), RangeError);
  t.throws(() => new WorkQueue(reconcile, { backoff: { baseMs: 10, maxMs: 5 } }), RangeError);
  t.throws(() => new WorkQueue(reconcile, { backoff: { jitter: 1 } }), RangeError);
  t.throws(() => new WorkQueue(reconcile, { backoff: { jitter: -0.1 } }), RangeError);
  t.doesNotThrow(() => new WorkQueue(reconcile, { concurrency: 1, backoff: { jitter: 0 } }));
});
