import t from 'tap';
import { parseSince } from '../../src/cli/since.js';
import { UsageError } from '../../src/errors.js';

const NOW = Date.parse('2026-12-02T12:00:00Z');

t.test('--since: durations back from now and timestamps', async (t) => {
  const cases: [string, string][] = [
    ['10m', '2026-12-02T11:50:00.000Z'],
    ['90s', '2026-12-02T11:58:30.000Z'],
    ['1h30m', '2026-12-02T10:30:00.000Z'],
    ['2d', '2026-11-30T12:00:00.000Z'],
    ['1w', '2026-11-25T12:00:00.000Z'],
    ['0s', '2026-12-02T12:00:00.000Z'],
    ['2026-12-02T10:00:00Z', '2026-12-02T10:00:00.000Z'],
    ['2026-12-02T10:00:00.250Z', '2026-12-02T10:00:00.250Z'],
    ['2026-12-02T10:00', '2026-12-02T10:00:00.000Z'],
    ['2026-12-02 10:00:00', '2026-12-02T10:00:00.000Z'],
    ['2026-12-02T10:00:00+01:00', '2026-12-02T09:00:00.000Z'],
    ['2026-12-02T10:00:00-0530', '2026-12-02T15:30:00.000Z'],
    ['2026-12-02', '2026-12-02T00:00:00.000Z'],
  ];
  for (const [text, iso] of cases) t.equal(new Date(parseSince(text, NOW)).toISOString(), iso, text);
});

t.test('--since: anything else is a usage error saying what is accepted', async (t) => {
  for (const bad of ['', '10', 'ten minutes', '10 m', '-5m', '1y', '2026-02-30', '2026-13-01T00:00Z', '2026-12-02T25:00Z', '12/02/2026', 'yesterday']) {
    let error: unknown = null;
    try {
      parseSince(bad, NOW);
    } catch (e) {
      error = e;
    }
    t.ok(error instanceof UsageError, `${JSON.stringify(bad)} is refused as a usage error`);
    t.match((error as Error).message, /^--since must be a duration back from now \(e\.g\. 10m.*or a time \(e\.g\. 2026-12-02T10:00:00Z/);
    t.ok((error as Error).message.includes(`"${bad}"`), 'the message quotes the value');
  }
});
