import t from 'tap';
import { runCli } from '../helpers/deps.js';
import { COMMANDS } from '../../src/cli/commands/index.js';

t.test('`setopsd help CMD` prints that command\'s help, the same as `CMD --help`', async (t) => {
  for (const name of Object.keys(COMMANDS)) {
    const viaHelp = await runCli(['help', name]);
    const viaFlag = await runCli([name, '--help']);
    t.equal(viaHelp.code, 0, name);
    t.equal(viaHelp.stdout, viaFlag.stdout, name);
    t.match(viaHelp.stdout, new RegExp(`^Usage: setopsd ${name}`), name);
  }
  const top = await runCli(['help']);
  t.match(top.stdout, /^setopsd — GitOps reconciler/);
});

t.test('help for an unknown command, and a misspelt command, suggest the one meant', async (t) => {
  const r = await runCli(['help', 'aply']);
  t.equal(r.code, 1);
  t.match(r.stderr, /^setopsd: unknown command "aply"; did you mean "apply"\?/);
  t.match((await runCli(['plann'])).stderr, /unknown command "plann"; did you mean "plan"\?/);
});

t.test('an unknown flag names the option meant, in setopsd\'s words', async (t) => {
  const r = await runCli(['plan', '.', '--stag', 'staging']);
  t.equal(r.code, 1);
  t.equal(r.stdout, '');
  t.equal(r.stderr, 'error: unknown option --stag; did you mean --stage?\nRun `setopsd plan --help` for usage.\n');
  t.match((await runCli(['apply', '--allow-dataloss'])).stderr, /^error: unknown option --allow-dataloss; did you mean --allow-data-loss\?/);
  t.match((await runCli(['validate', '--format=json', '--formt=json'])).stderr, /^error: unknown option --formt; did you mean --format\?/);
});

t.test('a flag nothing is close to lists the options of the command; no Node parseArgs text', async (t) => {
  const r = await runCli(['validate', '--zzzzzz']);
  t.match(r.stderr, /^error: unknown option --zzzzzz; validate takes --[a-z-]+(, --[a-z-]+)*, --help\n/);
  for (const argv of [['validate', '--zzzzzz'], ['plan', '--stage'], ['apply', '--yes=1'], ['plan', '-q']]) {
    const e = (await runCli(argv)).stderr;
    t.notMatch(e, /To specify a positional argument|<value>|ERR_PARSE_ARGS/, argv.join(' '));
  }
  t.match((await runCli(['plan', '--stage'])).stderr, /^error: option --stage needs a value: --stage VALUE/);
  t.match((await runCli(['apply', '--yes=1'])).stderr, /^error: option --yes takes no value/);
});
