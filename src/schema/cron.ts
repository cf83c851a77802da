import { createRequire } from 'node:module';
import type { Cron as CronClass } from 'croner';

const require = createRequire(import.meta.url);
/** croner, loaded on the first expression checked: manifests without schedules never need it. */
let cron: typeof CronClass | undefined;

/**
 * Cron expressions of schedules: five fields (minute hour day-of-month month day-of-week), the
 * form both engines run (croner locally, EventBridge Scheduler's `cron()` on AWS after
 * translation). Checked with croner, the library the local engine runs them with.
 */

/** Why an expression is not a valid five-field cron expression, or null. */
export function cronError(expr: string): string | null {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5) return `it has ${fields.length} field${fields.length === 1 ? '' : 's'}`;
  try {
    cron ??= (require('croner') as { Cron: typeof CronClass }).Cron;
    new cron(expr, { paused: true });
    return null;
  } catch (err) {
    return (err as Error).message.replace(/^CronPattern: /, '');
  }
}

export function isCronExpression(expr: string): boolean {
  return cronError(expr) === null;
}

/** `; <why>` for a message about a value that is not a valid expression. */
export function cronProblem(value: unknown): string {
  if (typeof value !== 'string') return '';
  const why = cronError(value);
  return why === null ? '' : ` (${why.charAt(0).toLowerCase()}${why.slice(1)})`;
}

/** Whether the runtime knows the IANA time zone. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
