import type { Clock } from '../../src/deps.js';
import type { Timers } from '../../src/daemon/work-queue.js';

/**
 * A manual clock with timers for tests: nothing happens until `advance(ms)`, which moves the
 * clock and fires due timers in order of due time (then of creation), including timers that
 * the fired callbacks schedule within the advanced span.
 */
export class FakeTime implements Clock, Timers {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<number, { at: number; seq: number; fn: () => void }>();

  constructor(start = Date.parse('2026-01-01T00:00:00Z')) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): number {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), seq: id, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Delays from now of the pending timers, soonest first. */
  pending(): number[] {
    return [...this.#timers.values()].map((t) => t.at - this.#now).sort((a, b) => a - b);
  }

  /** Moves the clock by `ms`, firing every timer due on the way. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const due = [...this.#timers.entries()]
        .filter(([, t]) => t.at <= target)
        .sort(([, a], [, b]) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      const [id, timer] = due;
      this.#timers.delete(id);
      this.#now = Math.max(this.#now, timer.at);
      timer.fn();
    }
    this.#now = target;
  }
}

/**
 * Lets pending promise callbacks run (a macrotask turn each round) until `condition` holds;
 * fails after `rounds` turns. Waits on a condition, never on wall-clock time.
 */
export async function until(condition: () => boolean, what: string, rounds = 200): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (condition()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  if (!condition()) throw new Error(`condition not reached after ${rounds} turns: ${what}`);
}

/** Lets every promise callback that is ready run (a few macrotask turns). */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
