import { UsageError } from '../errors.js';

/** Milliseconds per unit, largest first: the order in which units may appear in a duration. */
const UNITS: readonly (readonly [unit: string, ms: number])[] = [
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
];

/** The accepted forms, for messages. */
export const DURATION_FORMS = 'a whole number and a unit (ms, s, m, h), e.g. 500ms, 30s, 10m, 1h, or a combination such as 1h30m';

/**
 * Parses a duration given on the command line (`--interval 30s`) into milliseconds.
 *
 * Accepts one or more `<whole number><unit>` parts with units `h`, `m`, `s`, `ms`, largest unit
 * first and each unit at most once: `500ms`, `30s`, `10m`, `1h`, `1h30m`, `2m30s`, `1s500ms`,
 * `0s`. Surrounding whitespace is ignored. Anything else (a bare number, a fraction, a negative
 * value, an unknown unit, units out of order or repeated, a value beyond what a `number` holds
 * exactly) throws a {@link UsageError} naming `flag` and the accepted forms.
 */
export function parseDuration(text: string, flag: string): number {
  const input = text.trim();
  const fail: (why: string) => never = (why) => {
    throw new UsageError(`${flag}: ${JSON.stringify(text)} is not a duration (${why}); give ${DURATION_FORMS}`);
  };
  if (input === '') fail('it is empty');
  let total = 0;
  let next = 0; // index into UNITS of the largest unit still allowed
  let pos = 0;
  const part = /([0-9]+)(ms|h|m|s)/y;
  while (pos < input.length) {
    part.lastIndex = pos;
    const m = part.exec(input);
    if (!m) {
      if (/^[0-9]+$/.test(input.slice(pos))) fail('a number needs a unit');
      if (/^[0-9]*[.,]/.test(input.slice(pos))) fail('use whole numbers, e.g. 1m30s instead of 1.5m');
      if (input[pos] === '-') fail('it is negative');
      fail(`unexpected ${JSON.stringify(input.slice(pos))}`);
    }
    const index = UNITS.findIndex(([u]) => u === m[2]);
    if (index < next) fail(`units must go from largest to smallest, each once (h, m, s, ms)`);
    next = index + 1;
    total += Number(m[1]) * UNITS[index]![1];
    pos += m[0].length;
  }
  if (!Number.isSafeInteger(total)) fail('it is too large');
  return total;
}

/**
 * Renders milliseconds the way {@link parseDuration} reads them, for messages and logs:
 * `1h30m`, `45s`, `1s500ms`, `0s`. Negative or fractional input is rounded to whole
 * milliseconds and clamped at 0.
 */
export function formatDuration(ms: number): string {
  let rest = Math.max(0, Math.round(ms));
  if (rest === 0) return '0s';
  let out = '';
  for (const [unit, size] of UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}
