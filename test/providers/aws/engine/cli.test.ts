import t from 'tap';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPulumiExecutable, locatePulumiCommand } from '../../../../src/providers/aws/engine/cli.js';
import { createPulumiEngine } from '../../../../src/providers/aws/index.js';
import { testDeps } from '../../../helpers/deps.js';
import { tempDir } from '../../../helpers/temp.js';

const fakeBin = join(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/fake-pulumi/bin');

t.test('the CLI is looked up on the PATH of the injected environment, then in ~/.pulumi/bin', async (t) => {
  const home = tempDir(t, 'setopsd-home-');
  t.equal(await findPulumiExecutable({ PATH: `/nonexistent:${fakeBin}` }), join(fakeBin, 'pulumi'));
  t.equal(await findPulumiExecutable({ PATH: '' }), null);
  t.equal(await findPulumiExecutable({ PATH: '/nonexistent', HOME: home }), null);
  mkdirSync(join(home, '.pulumi/bin'), { recursive: true });
  symlinkSync(join(fakeBin, 'pulumi'), join(home, '.pulumi/bin/pulumi'));
  t.equal(await findPulumiExecutable({ PATH: '/nonexistent', HOME: home }), join(home, '.pulumi/bin/pulumi'));
  // A non-executable file named pulumi is not a CLI.
  const notExec = join(home, 'notexec');
  mkdirSync(notExec);
  writeFileSync(join(notExec, 'pulumi'), '#!/bin/sh\n');
  t.equal(await findPulumiExecutable({ PATH: notExec }), null);
});

t.test('locatePulumiCommand: a bin/ installation is used through its root; a broken CLI is a clear error', async (t) => {
  const cmd = await locatePulumiCommand({ PATH: fakeBin }, 'preview of stage a/b/c');
  t.equal(cmd.command, join(fakeBin, 'pulumi'));
  t.equal(cmd.version?.version, '3.200.0');
  await t.rejects(locatePulumiCommand({ PATH: '' }, 'preview of stage a/b/c'), {
    code: 'E_PULUMI_CLI_MISSING',
    message: /^the Pulumi CLI is required for preview of stage a\/b\/c; install it with `curl -fsSL https:\/\/get\.pulumi\.com \| sh`/,
  });
  const dir = tempDir(t, 'setopsd-badcli-');
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'bin/pulumi'), '#!/bin/sh\necho "error: this CLI is broken" >&2\nexit 3\n');
  chmodSync(join(dir, 'bin/pulumi'), 0o755);
  await t.rejects(locatePulumiCommand({ PATH: join(dir, 'bin') }, 'apply of stage a/b/c'), {
    code: 'E_PULUMI_CLI',
    message: `the Pulumi CLI at ${join(dir, 'bin/pulumi')} cannot be used for apply of stage a/b/c: this CLI is broken`,
  });
});

t.test('the engine finds the CLI on PATH when none is injected', async (t) => {
  const stateDir = tempDir(t, 'setopsd-path-');
  const fakeDir = tempDir(t, 'setopsd-fake-');
  const events = join(dirname(fakeBin), '../pulumi/pkg/backend/display/testdata/not-truncated/stack-output-resource-diff.json');
  writeFileSync(join(fakeDir, 'script.json'), JSON.stringify({ rules: [{ when: 'preview', events }] }));
  const deps = testDeps({ env: { PATH: `${fakeBin}:${process.env.PATH}`, FAKE_PULUMI_DIR: fakeDir, PULUMI_CONFIG_PASSPHRASE: 'p' }, cwd: stateDir });
  const engine = createPulumiEngine(
    { stateDir, deps, organization: { name: 'acme', provider: 'aws', aws: { region: 'us-east-1' } } },
    { program: () => async () => ({}) },
  );
  const plan = await engine.preview!(
    {
      organization: { name: 'acme', provider: 'aws', aws: { region: 'us-east-1' } },
      project: { name: 'shop' },
      stage: { name: 'dev', approval: 'auto', protected: false, notifications: {} },
      apps: {},
      services: {},
    },
    { model: null, serial: null },
  );
  t.same(plan.changes, []);
  const calls = readFileSync(join(fakeDir, 'calls.ndjson'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { argv: string[] }).argv[0]);
  t.same(calls, ['stack', 'config', 'preview'], 'the CLI found on PATH ran the preview');
});
