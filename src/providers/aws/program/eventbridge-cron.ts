/**
 * Five-field cron (minute hour day-of-month month day-of-week, Sunday 0 or 7) as an EventBridge
 * Scheduler expression `cron(minutes hours day-of-month month day-of-week year)`: one of the two
 * day fields must be `?`, and days of the week count from SUN = 1. Null when the expression uses
 * both day fields (EventBridge cannot say "the 1st or a Monday").
 */
export function eventBridgeCron(expr: string): string | null {
  const [min, hour, dom, month, dow] = expr.trim().split(/\s+/);
  if (min === undefined || hour === undefined || dom === undefined || month === undefined || dow === undefined) return null;
  if (dom !== '*' && dom !== '?' && dow !== '*' && dow !== '?') return null;
  const days = dow === '*' || dow === '?' ? [dom === '?' ? '*' : dom, '?'] : ['?', shiftWeekdays(dow)];
  return `cron(${min} ${hour} ${days[0]} ${month} ${days[1]} *)`;
}

/** 0–7 (0 and 7 Sunday) → 1–7 (1 Sunday) in lists, ranges and steps; names stay. */
function shiftWeekdays(field: string): string {
  return field.replace(/(^|[,\-/])(\d+)/g, (_m, sep: string, n: string) => {
    // The number after a "/" is a step, not a day.
    if (sep === '/') return `${sep}${n}`;
    const d = Number(n) % 7;
    return `${sep}${d + 1}`;
  });
}
