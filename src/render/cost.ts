import type { CostEstimateSide, StageCost } from '../model/cost.js';
import type { StagePlan } from '../reconciler/stage-plan.js';

/**
 * The cost section of a stage in the text and markdown plans (AWS stages only): the estimated
 * monthly cost before → after and the delta, with the price table's date. Local stages show none.
 */

/** `$1,234.56`. */
export function usd(amount: number): string {
  return `$${amount.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** `+$12.00`, `-$3.50`, `±$0.00`. */
export function signedUsd(amount: number): string {
  return amount > 0 ? `+${usd(amount)}` : amount < 0 ? `-${usd(-amount)}` : `±${usd(0)}`;
}

function side(s: CostEstimateSide | null, none: string): string {
  if (s === null) return none;
  return s.monthly === null ? 'not priced' : `${usd(s.monthly)}/month`;
}

/** `cost: $128.78/month → $723.67/month (+$594.89/month; eu-central-1 on-demand prices of 2026-12-02)`. */
export function costLine(c: StageCost): string {
  const delta = c.delta === null ? 'delta unknown' : `${signedUsd(c.delta)}/month`;
  const unpriced = [...(c.before?.unpriced ?? []), ...(c.after?.unpriced ?? [])];
  const missing = unpriced.length > 0 ? `; no price for ${[...new Set(unpriced)].join(', ')}` : '';
  return `cost: ${side(c.before, 'nothing deployed')} → ${side(c.after, 'deleted')} (${delta}; estimate at ${c.region} on-demand prices of ${c.prices.date}${missing})`;
}

/** The cost line of one stage plan, or none (local stages). */
export function costLines(p: StagePlan): string[] {
  return p.cost ? [costLine(p.cost)] : [];
}

/** The markdown section: one row per AWS stage (Before, After, Delta), empty without AWS stages. */
export function costMarkdown(plans: readonly StagePlan[], escape: (s: string) => string): string[] {
  const priced = plans.filter((p) => p.cost !== undefined);
  if (priced.length === 0) return [];
  const cell = (s: CostEstimateSide | null) => (s === null ? '—' : s.monthly === null ? 'not priced' : usd(s.monthly));
  const rows = priced.map((p) => {
    const c = p.cost!;
    return `| \`${escape(p.key)}\` | ${escape(c.region)} | ${cell(c.before)} | ${cell(c.after)} | ${c.delta === null ? '?' : c.delta > 0 ? `**${signedUsd(c.delta)}**` : signedUsd(c.delta)} |`;
  });
  const { date, assumptions } = priced[0]!.cost!.prices;
  return [
    `**Estimated monthly cost** (USD, AWS on-demand prices of ${date}; ${escape(assumptions.join('; '))})`,
    '',
    '| Stage | Region | Before | After | Delta |',
    '| --- | --- | ---: | ---: | ---: |',
    ...rows,
    '',
  ];
}
