import t from 'tap';
import { formatDuration, parseDuration } from '../../src/daemon/duration.js';
import { UsageError } from '../../src/errors.js';

t.test('accepted durations', async (t) => {
  const table: [string, number][] = [
    ['500ms', 500],
    ['0ms', 0],
    ['0s', 0],
    ['1s', 1_000],
    ['30s', 30_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['24h', 86_400_000],
    ['1h30m', 5_400_000],
    ['2m30s', 150_000],
    ['1s500ms', 1_500],
    ['1h2m3s4ms', 3_723_004],
    ['90m', 5_400_000],
    ['1500ms', 1_500],
    ['007s', 7_000],
    ['  30s\n', 30_000],
  ];
  for (const [text, ms] of table) t.equal(parseDuration(text, '--interval'), ms, text);
});

t.test('refused durations name the flag, the input and the accepted forms', async (t) => {
  const table: [string, RegExp][] = [
    ['', /it is empty/],
    ['   ', /it is empty/],
    ['30', /a number needs a unit/],
    ['1h30', /a number needs a unit/],
    ['1.5h', /use whole numbers/],
    ['0,5s', /use whole numbers/],
    ['-5s', /it is negative/],
    ['5 s', /unexpected "5 s"/],
    ['5sec', /unexpected "ec"/],
    ['1d', /unexpected "1d"/],
    ['s', /unexpected "s"/],
    ['30m1h', /largest to smallest/],
    ['1s1s', /largest to smallest/],
    ['1ms1s', /largest to smallest/],
    ['5S', /unexpected "5S"/],
    ['99999999999999999999h', /too large/],
  ];
  for (const [text, why] of table) {
    let error: unknown;
    try {
      parseDuration(text, '--interval');
    } catch (e) {
      error = e;
    }
    t.type(error, UsageError, `${JSON.stringify(text)} is a UsageError`);
    const message = (error as Error).message;
    t.match(message, why, `${JSON.stringify(text)}: ${message}`);
    t.ok(message.startsWith(`--interval: ${JSON.stringify(text)} is not a duration`), 'starts with flag and input');
    t.match(message, /give a whole number and a unit \(ms, s, m, h\), e\.g\. 500ms, 30s, 10m, 1h, or a combination such as 1h30m$/);
    t.equal((error as UsageError).code, 'E_USAGE');
  }
});

t.test('formatDuration renders what parseDuration reads', async (t) => {
  const table: [number, string][] = [
    [0, '0s'],
    [-5, '0s'],
    [1, '1ms'],
    [500, '500ms'],
    [1_000, '1s'],
    [1_500, '1s500ms'],
    [30_000, '30s'],
    [300_000, '5m'],
    [5_400_000, '1h30m'],
    [3_723_004, '1h2m3s4ms'],
    [90_000_000, '25h'],
    [1_499.6, '1s500ms'],
  ];
  for (const [ms, text] of table) {
    t.equal(formatDuration(ms), text, `${ms}`);
    if (ms >= 0 && Number.isInteger(ms)) t.equal(parseDuration(text, '--x'), ms, `${text} round-trips`);
  }
});
