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
    return `| \`${escape(p.key)}\` | ${escape(c.region)} | ${cell(c.before)} | ${cell(c.after)} | ${deltaCell(c.delta)} |`;
  });
  const { date, source, assumptions } = priced[0]!.cost!.prices;
  const sum = (pick: (c: StageCost) => number | null | undefined) => {
    const values = priced.map((p) => pick(p.cost!));
    return values.some((v) => v === null) ? null : Math.round(values.reduce<number>((a, v) => a + (v ?? 0), 0) * 100) / 100;
  };
  const total = priced.length > 1 ? [`| **Total** | | ${money(sum((c) => (c.before === null ? 0 : c.before.monthly)))} | ${money(sum((c) => (c.after === null ? 0 : c.after.monthly)))} | ${deltaCell(sum((c) => c.delta))} |`] : [];
  return [
    `**Estimated monthly cost** (USD, AWS on-demand list prices of ${date}; an estimate for review, not a bill)`,
    '',
    '| Stage | Region | Before | After | Delta |',
    '| --- | --- | ---: | ---: | ---: |',
    ...rows,
    ...total,
    '',
    '<details><summary>How the estimate is made</summary>',
    '',
    ...assumptions.map((a) => `- ${escape(a)}`),
    `- prices: ${escape(source)}`,
    '',
    '</details>',
    '',
  ];
}

function money(v: number | null): string {
  return v === null ? 'not priced' : usd(v);
}

function deltaCell(v: number | null): string {
  return v === null ? '?' : v > 0 ? `**${signedUsd(v)}**` : signedUsd(v);
}
