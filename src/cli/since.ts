import { UsageError } from '../errors.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
/** `10m`, `1h30m`, `2d`, `90s`: whole numbers with a unit, largest first or in any order. */
const DURATION = /^(?:\d+[smhdw])+$/;
/** `2026-12-02`, `2026-12-02T10:00`, `2026-12-02T10:00:00.5Z`, `2026-12-02 10:00:00+01:00`. */
const TIMESTAMP = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * The time `--since VALUE` means, in ms since the epoch: a duration back from `now` (`10m`,
 * `1h30m`, `2d`) or a timestamp (`2026-12-02T10:00:00Z`; without a zone it is UTC, like the
 * times `setopsd logs` prints). Pure. Throws a UsageError saying what is accepted.
 */
export function parseSince(value: string, now: number): number {
  const text = value.trim();
  if (DURATION.test(text)) {
    let ms = 0;
    for (const [, n, unit] of text.matchAll(/(\d+)([smhdw])/g)) ms += Number(n) * UNIT_MS[unit!]!;
    return now - ms;
  }
  const m = TIMESTAMP.exec(text);
  if (m !== null) {
    const [, date, time, zone] = m;
    const iso = `${date}T${time ?? '00:00'}${zone === undefined ? 'Z' : zone.toUpperCase().replace(/^([+-]\d{2})(\d{2})$/, '$1:$2')}`;
    const [y, mo, d] = date!.split('-').map(Number) as [number, number, number];
    const realDay = new Date(Date.UTC(y, mo - 1, d)).toISOString().slice(0, 10) === date;
    const at = Date.parse(iso);
    if (realDay && !Number.isNaN(at)) return at;
  }
  throw new UsageError(`--since must be a duration back from now (e.g. 10m, 1h30m, 2d; units s, m, h, d, w) or a time (e.g. 2026-12-02T10:00:00Z; UTC without a zone), got "${value}"`);
}
