import { inspect } from 'node:util';

export interface WaitOptions {
  /** Give up after this many milliseconds (default 20 000). */
  timeoutMs?: number;
  /** Milliseconds between two checks (default 50). */
  intervalMs?: number;
}

/** What a check returns while the condition does not hold yet. */
export type NotYet = false | undefined | null;

/**
 * Calls `check` until it returns something other than `false`, `undefined` or `null`, and
 * returns that. A check that throws counts as "not yet". After `timeoutMs` it rejects with an
 * error naming `what` and the last value or error the check gave. It never waits longer than
 * one interval between checks, so it ends as soon as the condition holds.
 *
 * ```ts
 * await waitFor('the pid file', () => existsSync(pidFile));
 * const res = await waitFor('a 200 from web', async () => {
 *   const r = await get(port, '/', { host: 'web.dev.shop.localhost' });
 *   return r.status === 200 && r;
 * }, { timeoutMs: 60_000 });
 * ```
 */
export async function waitFor<T>(what: string, check: () => T | NotYet | Promise<T | NotYet>, opts: WaitOptions = {}): Promise<T> {
  const { timeoutMs = 20_000, intervalMs = 50 } = opts;
  const deadline = Date.now() + timeoutMs;
  let last: { value: unknown } | { error: unknown } = { value: undefined };
  for (;;) {
    try {
      const v = await check();
      if (v !== false && v !== undefined && v !== null) return v;
      last = { value: v };
    } catch (error) {
      last = { error };
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${describe(last)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function describe(last: { value: unknown } | { error: unknown }): string {
  if ('error' in last) return `the last check threw: ${last.error instanceof Error ? last.error.message : inspect(last.error)}`;
  return `the last check returned ${inspect(last.value, { depth: 3, breakLength: Infinity, maxStringLength: 300 })}`;
}
