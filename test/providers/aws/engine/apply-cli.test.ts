/**
 * `setopsd apply` of an AWS stage end to end through the CLI, with the fake Pulumi CLI on PATH:
 * plan with the resource preview, `pulumi up` with progress from the engine events, and the
 * deployment journal with Pulumi's resource counts.
 */
import t from 'tap';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../../helpers/deps.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const fixtures = join(repo, 'test/fixtures');
const stream = (f: string): string => join(fixtures, 'pulumi/pkg/backend/display/testdata/not-truncated', f);

t.test('setopsd apply --yes on the AWS example drives pulumi preview and up', async (t) => {
  const stateDir = await mkdtemp(join(tmpdir(), 'setopsd-apply-aws-'));
  const fakeDir = await mkdtemp(join(tmpdir(), 'setopsd-fake-'));
  t.teardown(async () => {
    await rm(stateDir, { recursive: true, force: true });
    await rm(fakeDir, { recursive: true, force: true });
  });
  writeFileSync(
    join(fakeDir, 'script.json'),
    JSON.stringify({ rules: [{ when: 'preview', events: stream('webserver-userdata.json') }, { when: 'up', events: stream('up-3.json') }] }),
  );
  const env = {
    PATH: `${join(fixtures, 'fake-pulumi/bin')}:${process.env.PATH}`,
    HOME: process.env.HOME,
    FAKE_PULUMI_DIR: fakeDir,
    PULUMI_CONFIG_PASSPHRASE: 'e2e-passphrase',
  };
  const res = await runCli(['apply', join(repo, 'examples/aws'), '--state-dir', stateDir, '--stage', 'globex/storefront/staging', '--yes'], { env, cwd: repo });
  t.equal(res.code, 0, res.stderr || 'applied');
  t.match(res.stdout, /resources \(engine preview\):/);
  t.match(res.stdout, /-\/\+ resource\/aws:ec2\/instance:Instance\/web-server-www userData: .* \(forces replacement\)/);
  t.match(res.stdout, /resource\/aws:eks\/cluster:Cluster\/eks-cluster succeeded: created/);
  t.match(res.stdout, /globex\/storefront\/staging: deployment #1 succeeded/);

  const calls = readFileSync(join(fakeDir, 'calls.ndjson'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { argv: string[] }).argv);
  t.ok(calls.some((a) => a[0] === 'preview'), 'plan ran pulumi preview');
  t.ok(calls.some((a) => a[0] === 'up' && a.includes('setopsd deployment #1 (cli)')), 'apply ran pulumi up with the deployment message');

  const journalDir = join(stateDir, 'stages/globex/storefront/staging/journal');
  const [first] = readdirSync(journalDir).filter((n) => n.endsWith('.json')).sort();
  const entry = JSON.parse(readFileSync(join(journalDir, first!), 'utf8')) as { status: string; summary: Record<string, number> };
  t.equal(entry.status, 'succeeded');
  t.equal(entry.summary['resources.create'], 6, 'Pulumi resource counts in the journal');
  t.equal(entry.summary.create, 15, 'the changeset counts are kept');
  t.notMatch(res.stdout + res.stderr + JSON.stringify(entry), /e2e-passphrase/, 'the passphrase never shows');
});
