import { createHash } from 'node:crypto';
import type { AppModel } from '../../../model/stage-model.js';

/** An app's domains, primary first, the others sorted. */
export function orderedDomains(app: AppModel): string[] {
  const names = Object.keys(app.domains).sort();
  const primary = names.find((d) => app.domains[d]!.primary) ?? names[0];
  return primary === undefined ? [] : [primary, ...names.filter((d) => d !== primary)];
}

/** Second-level public suffixes under which a registered domain has three labels (`example.co.uk`). */
const TWO_LABEL_SUFFIXES = new Set([
  'co.uk', 'org.uk', 'ac.uk', 'gov.uk', 'me.uk', 'com.au', 'net.au', 'org.au', 'co.nz', 'co.jp', 'ne.jp',
  'com.br', 'com.cn', 'com.mx', 'co.za', 'co.in', 'co.kr', 'com.tr', 'com.sg', 'com.hk',
]);

/**
 * The Route 53 hosted zone a domain's records go to: an explicit `hostedZoneIds` entry for the
 * longest matching suffix (`{ id }`), else the public zone of the registered domain by name
 * (`{ name }`): the last two labels (`www.shop.example.com` → `example.com`), three under
 * common second-level suffixes (`shop.example.co.uk` → `example.co.uk`). Delegated sub-zones
 * (a zone for `shop.example.com` itself) need a `hostedZoneIds` entry.
 */
export function hostedZoneFor(domain: string, hostedZoneIds: Record<string, string>): { id: string } | { name: string } {
  const suffixes = Object.keys(hostedZoneIds)
    .filter((s) => domain === s || domain.endsWith(`.${s}`))
    .sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  if (suffixes.length > 0) return { id: hostedZoneIds[suffixes[0]!]! };
  const labels = domain.replace(/\.$/, '').split('.');
  const keep = labels.length >= 3 && TWO_LABEL_SUFFIXES.has(labels.slice(-2).join('.')) ? 3 : 2;
  return { name: labels.slice(-keep).join('.') };
}

/** `values` in chunks of `size` (ALB conditions take at most 5 host names). */
export function chunks<T>(values: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}

/** `value` clamped to [min, max]. */
export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** Most domains one app may have: its listener rules (forward + redirects in fives) fit one block of 10. */
export const MAX_DOMAINS_PER_APP = 45;

/** Priority blocks (of 10 rules) of apps with domains: 1…3999, evaluated before the wildcard ones. */
export const DOMAIN_BLOCKS = { first: 1, count: 3999 } as const;
/** Priority blocks of the `<app>.*` host rules of apps without domains: 4000…4999, evaluated last. */
export const WILDCARD_BLOCKS = { first: 4000, count: 1000 } as const;

/**
 * Listener rule priorities: each app gets its own block of 10 (`block * 10` … `block * 10 + 9`)
 * within `range`, picked from a hash of its name, the next free block on a collision (apps in
 * name order). Adding or removing an app does not move the others' rules, so an update never
 * swaps priorities between existing rules (which the ALB rejects as "priority in use").
 */
export function rulePriorities(apps: readonly string[], range: { first: number; count: number } = DOMAIN_BLOCKS): Record<string, number> {
  const taken = new Set<number>();
  const out: Record<string, number> = {};
  for (const app of [...apps].sort()) {
    let offset = parseInt(createHash('sha256').update(app).digest('hex').slice(0, 8), 16) % range.count;
    while (taken.has(offset)) offset = (offset + 1) % range.count;
    taken.add(offset);
    out[app] = (range.first + offset) * 10;
  }
  return out;
}
