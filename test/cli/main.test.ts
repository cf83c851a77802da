import t from 'tap';
import { runCli } from '../helpers/deps.js';

t.test('--version prints the package version', async (t) => {
  const r = await runCli(['--version']);
  t.equal(r.code, 0);
  t.match(r.stdout, /^setopsd \d+\.\d+\.\d+\n$/);
});

t.test('no command prints help and exits 1', async (t) => {
  const r = await runCli([]);
  t.equal(r.code, 1);
  t.match(r.stdout, /Usage: setopsd <command>/);
});

t.test('unknown command is a clear error', async (t) => {
  const r = await runCli(['frobnicate']);
  t.equal(r.code, 1);
  t.match(r.stderr, /unknown command "frobnicate"/);
});
