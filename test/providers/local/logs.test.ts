import t from 'tap';
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HTTP_APP, REF, noChanges, setup } from './helpers.js';
import { app, stage } from '../../helpers/models.js';
import { localPaths } from '../../../src/providers/local/paths.js';
import { waitFor } from '../../helpers/wait.js';
import { runCli } from '../../helpers/deps.js';
import { realClock, realSleep } from '../../../src/sleep.js';

t.test('logs: each app line with the time it was written and its process; the supervisor log is structured', async (t) => {
  const { engine, io, stateDir } = await setup(t);
  const before = new Date().toISOString();
  const desired = stage({ name: 'dev', apps: { web: app({ ...HTTP_APP, env: { VERSION: 'v1' }, scale: 2 }) } });
  t.equal((await engine.apply(desired, noChanges(), io())).status, 'succeeded');
  const paths = localPaths(stateDir, REF);
  // Written by "process 1" now; dated by the supervisor's next note.
  await appendFile(join(paths.logsDir, 'web.1.log'), 'an order was placed\n');
  const size = (await readFile(join(paths.logsDir, 'web.1.log'))).length;
  await waitFor('the line noted', async () => {
    const notes = (await readFile(join(paths.logsDir, 'web.1.log.times'), 'utf8').catch(() => '')).trim().split('\n');
    return Number(notes[notes.length - 1]?.split(' ')[0]) >= size;
  }, { timeoutMs: 10_000 });
  const out: string[] = [];
  await engine.logs!(REF, 'web', { lines: 5, follow: false, signal: new AbortController().signal, write: (s) => out.push(s) });
  const lines = out.join('').trimEnd().split('\n');
  const byProcess = lines.map((l) => /^(\S+) (web\.\d): (.*)$/.exec(l));
  t.ok(byProcess.every((m) => m !== null), `every line is "TIME web.N: text": ${lines.join(' | ')}`);
  t.same([...new Set(byProcess.map((m) => m![2]))].sort(), ['web.0', 'web.1']);
  const placed = byProcess.find((m) => m![3] === 'an order was placed')!;
  t.ok(placed, 'the appended line is there');
  t.ok(placed[1]! >= before && placed[1]! <= new Date().toISOString(), `its time (${placed[1]}) is when it was written`);

  const supervisor = (await readFile(paths.supervisorLog, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const deployed = supervisor.find((l) => l.msg === 'app/web: deployment replaced');
  t.match(deployed, { stage: 'acme/shop/dev', app: 'web', outcome: 'replaced', level: 30 }, 'pino JSON with stage and app');

  const cli = (args: string[]) => runCli(['logs', '--stage', 'dev', '--state-dir', stateDir, ...args], { clock: realClock, sleep: realSleep, env: process.env });
  const human = await cli(['--supervisor']);
  t.equal(human.code, 0, human.stderr);
  t.match(human.stdout, /^\S+Z supervisor: app\/web: deployment replaced$/m, 'setopsd logs --supervisor prints it for people');
  t.notMatch(human.stdout, /^\{/m, 'never a pino JSON line');
  const recent = await cli(['--app', 'web', '--since', '1m']);
  t.equal(recent.code, 0, recent.stderr);
  t.match(recent.stdout, /^\S+ web\.1: an order was placed$/m, '--since 1m has the line just written');
  t.equal((await cli(['--app', 'web', '--since', new Date(Date.now() + 60_000).toISOString()])).stdout, '', 'nothing was written after a time still to come');
});
