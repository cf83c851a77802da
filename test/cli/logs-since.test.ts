import t, { type Test } from 'tap';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { app, stage } from '../helpers/models.js';
import { runCli } from '../helpers/deps.js';
import { tempDir } from '../helpers/temp.js';
import { waitFor } from '../helpers/wait.js';
import { StateStore } from '../../src/state/store.js';
import { localPaths } from '../../src/providers/local/paths.js';
import { scheduleLogFile } from '../../src/providers/local/schedules.js';

const REF = { organization: 'acme', project: 'shop', stage: 'dev' };
/** The CLI's clock: `--since 10m` means 11:50. */
const NOW = Date.parse('2026-12-02T12:00:00Z');

/**
 * A recorded local stage with logs as the local engine writes them: app processes' output with
 * the supervisor's `OFFSET TIME` notes beside it, a schedule's log, and the supervisor's pino log.
 * Nothing runs: `setopsd logs` only reads these files.
 */
async function recorded(t: Test): Promise<string> {
  const stateDir = tempDir(t, 'setopsd-logs-since-');
  const model = stage({ name: 'dev', apps: { web: app({ command: ['node', 'server.js'], schedules: { nightly: { cron: '0 3 * * *', command: 'node report.js' } } }) } });
  await new StateStore(stateDir).write(REF, model);
  const paths = localPaths(stateDir, REF);
  await mkdir(paths.logsDir, { recursive: true });
  // web.0: "booted" noted at 09:00, "order 1" at 11:40, "order 2" and "order 3" at 11:55.
  const web0 = ['booted', 'order 1', 'order 2', 'order 3'].map((l) => `${l}\n`);
  await writeFile(join(paths.logsDir, 'web.0.log'), web0.join(''));
  const end = (n: number) => web0.slice(0, n).join('').length;
  await writeFile(join(paths.logsDir, 'web.0.log.times'), `${end(1)} 2026-12-02T09:00:00.000Z\n${end(2)} 2026-12-02T11:40:00.000Z\n${end(4)} 2026-12-02T11:55:00.000Z\n`);
  // web.1: one line at 10:00, one at 11:59.
  await writeFile(join(paths.logsDir, 'web.1.log'), 'started\nhealth ok\n');
  await writeFile(join(paths.logsDir, 'web.1.log.times'), `8 2026-12-02T10:00:00.000Z\n18 2026-12-02T11:59:00.000Z\n`);
  await writeFile(scheduleLogFile(paths, 'web', 'nightly'), [
    '2026-12-01T03:00:00.000Z [setopsd] run started: node report.js',
    'report of 2026-11-30',
    '2026-12-01T03:00:02.000Z [setopsd] run ended: exit code 0 after 2s',
    '2026-12-02T03:00:00.000Z [setopsd] run started: node report.js',
    'report of 2026-12-01',
    '2026-12-02T03:00:03.000Z [setopsd] run ended: exit code 0 after 3s',
    '',
  ].join('\n'));
  const pinoLine = (time: string, msg: string, extra: Record<string, unknown> = {}) => JSON.stringify({ level: 30, time, stage: 'acme/shop/dev', supervisor: 4242, ...extra, msg });
  await writeFile(paths.supervisorLog, [
    pinoLine('2026-12-02T09:00:00.000Z', 'supervisor started'),
    pinoLine('2026-12-02T11:30:00.000Z', 'app/web: deployment replaced', { app: 'web', outcome: 'replaced' }),
    'Error: a crash trace written to stderr',
    pinoLine('2026-12-02T11:58:00.000Z', 'app/web: process 1 exited; restart 1', { level: 40, app: 'web', index: 1, pid: 99, code: 'E_UNHEALTHY' }),
    '',
  ].join('\n'));
  return stateDir;
}

const cli = (stateDir: string, args: string[]) => runCli(['logs', '--stage', 'dev', '--state-dir', stateDir, ...args], { clock: { now: () => NOW } });

t.test('logs --since: app lines written since then, by the supervisor\'s notes, with their time and process', async (t) => {
  const stateDir = await recorded(t);
  const tenMinutes = await cli(stateDir, ['--app', 'web', '--since', '10m']);
  t.equal(tenMinutes.code, 0, tenMinutes.stderr);
  t.equal(tenMinutes.stdout, [
    '2026-12-02T11:55:00.000Z web.0: order 2',
    '2026-12-02T11:55:00.000Z web.0: order 3',
    '2026-12-02T11:59:00.000Z web.1: health ok',
    '',
  ].join('\n'));
  const fromTen = await cli(stateDir, ['--app', 'web', '--since', '2026-12-02T10:00:00Z']);
  t.equal(fromTen.stdout, [
    '2026-12-02T11:40:00.000Z web.0: order 1',
    '2026-12-02T11:55:00.000Z web.0: order 2',
    '2026-12-02T11:55:00.000Z web.0: order 3',
    '2026-12-02T10:00:00.000Z web.1: started',
    '2026-12-02T11:59:00.000Z web.1: health ok',
    '',
  ].join('\n'), 'a line noted exactly at --since is included');
  const lastOne = await cli(stateDir, ['--app', 'web', '--since', '3h', '--lines', '1']);
  t.equal(lastOne.stdout, '2026-12-02T11:55:00.000Z web.0: order 3\n2026-12-02T11:59:00.000Z web.1: health ok\n', '--lines N keeps the last N of them per process');
  const everything = await cli(stateDir, ['--app', 'web']);
  t.equal(everything.stdout.split('\n').filter(Boolean).length, 6, 'without --since: the last lines, whenever written');
  t.equal((await cli(stateDir, ['--app', 'web', '--since', '30s'])).stdout, '', 'nothing since 11:59:30');
});

t.test('logs --since: schedule runs since then, their output dated by the run\'s own lines', async (t) => {
  const stateDir = await recorded(t);
  const today = await cli(stateDir, ['--app', 'web', '--schedule', 'nightly', '--since', '2026-12-02']);
  t.equal(today.code, 0, today.stderr);
  t.equal(today.stdout, [
    '2026-12-02T03:00:00.000Z [setopsd] run started: node report.js',
    'report of 2026-12-01',
    '2026-12-02T03:00:03.000Z [setopsd] run ended: exit code 0 after 3s',
    '',
  ].join('\n'));
  t.equal((await cli(stateDir, ['--app', 'web', '--schedule', 'nightly', '--since', '1h'])).stdout, '', 'no run in the last hour');
  t.equal((await cli(stateDir, ['--app', 'web', '--schedule', 'nightly', '--since', '2d'])).stdout.split('\n').filter(Boolean).length, 6);
});

t.test('logs --supervisor: the supervisor log as human lines, never pino JSON; with --since', async (t) => {
  const stateDir = await recorded(t);
  const all = await cli(stateDir, ['--supervisor']);
  t.equal(all.code, 0, all.stderr);
  t.equal(all.stdout, [
    '2026-12-02T09:00:00.000Z supervisor: supervisor started',
    '2026-12-02T11:30:00.000Z supervisor: app/web: deployment replaced',
    'Error: a crash trace written to stderr',
    '2026-12-02T11:58:00.000Z supervisor: WARN app/web: process 1 exited; restart 1 (E_UNHEALTHY)',
    '',
  ].join('\n'));
  const recent = await cli(stateDir, ['--supervisor', '--since', '1h']);
  t.equal(recent.stdout, [
    '2026-12-02T11:30:00.000Z supervisor: app/web: deployment replaced',
    'Error: a crash trace written to stderr',
    '2026-12-02T11:58:00.000Z supervisor: WARN app/web: process 1 exited; restart 1 (E_UNHEALTHY)',
    '',
  ].join('\n'), 'a line that is not JSON goes with the line before it');
  t.equal((await cli(stateDir, ['--supervisor', '--since', '2026-12-02T12:15:00+03:00'])).stdout.split('\n').filter(Boolean).length, 3, 'a zone offset counts (09:15 UTC)');
  t.equal((await cli(stateDir, ['--supervisor', '--lines', '1'])).stdout, '2026-12-02T11:58:00.000Z supervisor: WARN app/web: process 1 exited; restart 1 (E_UNHEALTHY)\n');
});

t.test('logs --supervisor --follow prints new events as they are written, until interrupted', async (t) => {
  const stateDir = await recorded(t);
  const ac = new AbortController();
  let out = '';
  const running = runCli(['logs', '--stage', 'dev', '--state-dir', stateDir, '--supervisor', '--since', '5m', '--follow'], {
    clock: { now: () => NOW },
    sleep: (_ms, signal) => new Promise((resolve) => {
      const timer = setTimeout(resolve, 10);
      signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    }),
    stdout: { write: (s: string) => void (out += s) },
  }, ac.signal);
  await waitFor('the recent event', () => out.includes('restart 1'));
  await appendFile(localPaths(stateDir, REF).supervisorLog, `${JSON.stringify({ level: 30, time: '2026-12-02T12:00:01.000Z', msg: 'app/web: deployment replaced' })}\n`);
  await waitFor('the new event', () => out.includes('12:00:01'));
  ac.abort();
  t.equal((await running).code, 0, 'Ctrl-C ends following');
  t.equal(out, '2026-12-02T11:58:00.000Z supervisor: WARN app/web: process 1 exited; restart 1 (E_UNHEALTHY)\n2026-12-02T12:00:01.000Z supervisor: app/web: deployment replaced\n');
});

t.test('logs: a bad --since or a mixed --supervisor is a usage error that prints nothing else', async (t) => {
  const stateDir = await recorded(t);
  const bad = await cli(stateDir, ['--app', 'web', '--since', 'yesterday']);
  t.equal(bad.code, 1);
  t.equal(bad.stdout, '');
  t.match(bad.stderr, /--since must be a duration back from now \(e\.g\. 10m, 1h30m, 2d; units s, m, h, d, w\) or a time \(e\.g\. 2026-12-02T10:00:00Z; UTC without a zone\), got "yesterday"/);
  t.notMatch(bad.stderr, /\n\s+at /, 'no stack trace');
  const mixed = await cli(stateDir, ['--supervisor', '--app', 'web']);
  t.equal(mixed.code, 1);
  t.match(mixed.stderr, /logs --supervisor shows the stage supervisor's log: leave out --app and --schedule/);
  const neither = await cli(stateDir, []);
  t.match(neither.stderr, /logs needs --app APP \(or --supervisor\)/);
});
