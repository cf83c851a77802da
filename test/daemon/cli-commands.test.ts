/** `setopsd approve | retry | sync` ask the running daemon through daemon.json (URL + token), or say clearly that none runs. */
import t from 'tap';
import { realClock, realSleep } from '../../src/sleep.js';
import { runCli } from '../helpers/deps.js';
import { tempDir } from '../helpers/temp.js';
import { waitFor } from '../helpers/wait.js';
import { daemonFor, manifests } from './helpers.js';

const cli = (argv: string[]) => runCli(argv, { clock: realClock, sleep: realSleep });

t.test('approve applies the waiting plan; retry and sync are accepted; the token is never printed', async (t) => {
  const d = await daemonFor(t, manifests({ greeting: 'one' }));
  const held = await waitFor('production waiting', async () => {
    const r = await d.record('production');
    return r?.state === 'waiting-approval' ? r : undefined;
  });
  const wrong = await cli(['approve', 'acme/shop/production', '--plan', 'ffffffffffff', '--state-dir', d.stateDir]);
  t.equal(wrong.code, 1);
  t.match(wrong.stderr, /plan ffffffffffff is not the waiting plan/);

  const ok = await cli(['approve', 'acme/shop/production', '--plan', held.pendingPlan!.id, '--state-dir', d.stateDir]);
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, new RegExp(`acme/shop/production: plan ${held.pendingPlan!.id} approved`));
  await waitFor('production ready', async () => (await d.record('production'))?.state === 'ready');

  const nothing = await cli(['approve', 'acme/shop/production', '--state-dir', d.stateDir]);
  t.equal(nothing.code, 1);
  t.match(nothing.stderr, /has no plan waiting for approval \(it is ready\)/);

  t.equal((await cli(['retry', 'acme/shop/staging', '--state-dir', d.stateDir])).code, 0);
  t.equal((await cli(['sync', '--state-dir', d.stateDir])).code, 0);
  const { readDaemonInfo } = await import('../../src/daemon/instance.js');
  const token = (await readDaemonInfo(d.stateDir))!.token;
  for (const r of [wrong, ok, nothing]) t.notMatch(r.stdout + r.stderr, new RegExp(token), 'no token in the output');
});

t.test('without a daemon: a clear error, exit 1', async (t) => {
  const stateDir = tempDir(t, 'setopsd-nodaemon-');
  const r = await cli(['approve', 'acme/shop/production', '--state-dir', stateDir]);
  t.equal(r.code, 1);
  t.match(r.stderr, /no setopsd daemon runs on the state directory .*; start one with `setopsd daemon`, or give --daemon URL/);
  t.notMatch(r.stderr, /at .*\.ts:\d+/, 'no stack trace');
});

t.test('the daemon refuses a duration flag it cannot read before it starts anything, naming the flag', async (t) => {
  const dir = tempDir(t);
  for (const flag of ['--task-check-interval', '--drift-interval', '--poll', '--shutdown-timeout']) {
    const r = await cli(['daemon', dir, '--state-dir', `${dir}/state`, '--listen', '127.0.0.1:0', flag, 'soon']);
    t.equal(r.code, 1, flag);
    t.match(r.stderr, new RegExp(`${flag}: "soon" is not a duration`), flag);
  }
});
