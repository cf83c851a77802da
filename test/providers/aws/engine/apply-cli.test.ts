/**
 * `setopsd apply` of an AWS stage end to end through the CLI, with the fake Pulumi CLI on PATH:
 * plan with the resource preview, `pulumi up` with progress from the engine events, and the
 * deployment journal with Pulumi's resource counts. The example's web app has a `preDeploy`
 * and a `{secret}`: SSM and ECS are a fake AWS endpoint on 127.0.0.1 (AWS_ENDPOINT_URL), so the
 * whole rollout runs: SSM check, pinned up, pre-deploy task, up.
 */
import t from 'tap';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../../helpers/deps.js';
import { DUMMY_CREDENTIALS, fakeAws } from './fake-aws.js';
import { tempDir } from '../../../helpers/temp.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const fixtures = join(repo, 'test/fixtures');
const stream = (f: string): string => join(fixtures, 'pulumi/pkg/backend/display/testdata/not-truncated', f);

t.test('setopsd apply --yes --refresh on the AWS example drives pulumi preview and up (refreshing first)', async (t) => {
  const stateDir = tempDir(t, 'setopsd-apply-aws-');
  const fakeDir = tempDir(t, 'setopsd-fake-');
  const taskArn = 'arn:aws:ecs:eu-central-1:123456789012:task/globex-storefront-staging/feedc0de';
  const aws = await fakeAws(t, (req) => {
    if (req.target === 'AmazonSSM.GetParameters') return { body: { Parameters: (req.body.Names as string[]).map((Name) => ({ Name, Type: 'SecureString' })), InvalidParameters: [] } };
    if (req.target.endsWith('.RunTask')) return { body: { tasks: [{ taskArn, lastStatus: 'PROVISIONING' }], failures: [] } };
    return { body: { tasks: [{ taskArn, lastStatus: 'STOPPED', stoppedReason: 'Essential container in task exited', containers: [{ name: 'web', exitCode: 0 }] }], failures: [] } };
  });
  // The outputs the first (pinned) update records: what the pre-deploy task needs.
  const checkpoint = join(stateDir, 'stages/globex/storefront/staging/pulumi/backend/.pulumi/stacks/setops-globex-storefront/staging.json');
  const outputs = {
    cluster: 'globex-storefront-staging',
    preDeployTaskDefinitions: { web: 'arn:aws:ecs:eu-central-1:123456789012:task-definition/globex-storefront-staging-web-predeploy:1' },
    taskNetwork: { subnets: ['subnet-a', 'subnet-b'], securityGroups: { web: ['sg-web', 'sg-members'] }, assignPublicIp: false },
    apps: { web: { rolledBack: false, logGroup: '/setops/globex/storefront/staging/web' } },
  };
  const stackRes = { urn: 'urn:pulumi:staging::setops-globex-storefront::pulumi:pulumi:Stack::setops-globex-storefront-staging', custom: false, type: 'pulumi:pulumi:Stack', outputs };
  const recorded = JSON.stringify({ version: 3, checkpoint: { stack: 'organization/setops-globex-storefront/staging', latest: { manifest: { time: '2026-01-01T00:00:00Z', magic: '', version: '' }, resources: [stackRes] } } });
  writeFileSync(
    join(fakeDir, 'script.json'),
    JSON.stringify({
      rules: [
        { when: 'preview', events: stream('webserver-userdata.json') },
        { when: 'up', times: 1, writes: [{ path: checkpoint, text: recorded }] },
        { when: 'up', events: stream('up-3.json') },
      ],
    }),
  );
  const env = {
    AWS_ENDPOINT_URL: aws.url,
    AWS_ACCESS_KEY_ID: DUMMY_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DUMMY_CREDENTIALS.secretAccessKey,
    PATH: `${join(fixtures, 'fake-pulumi/bin')}:${process.env.PATH}`,
    HOME: process.env.HOME,
    FAKE_PULUMI_DIR: fakeDir,
    PULUMI_CONFIG_PASSPHRASE: 'e2e-passphrase',
  };
  const res = await runCli(['apply', join(repo, 'examples/aws'), '--state-dir', stateDir, '--stage', 'globex/storefront/staging', '--yes', '--refresh'], { env, cwd: repo });
  t.equal(res.code, 0, res.stderr || 'applied');
  t.match(res.stdout, /resources \(engine preview\):/);
  t.match(res.stdout, /-\/\+ resource\/aws:ec2\/instance:Instance\/web-server-www userData: .* \(forces replacement\)/);
  t.match(res.stdout, /resource\/aws:eks\/cluster:Cluster\/eks-cluster succeeded: created/);
  t.match(res.stdout, /globex\/storefront\/staging: deployment #1 succeeded/);

  const calls = readFileSync(join(fakeDir, 'calls.ndjson'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { argv: string[] }).argv);
  t.ok(calls.some((a) => a[0] === 'preview'), 'plan ran pulumi preview');
  t.same(
    calls.filter((a) => a[0] === 'up').map((a) => a[a.indexOf('--message') + 1]),
    ['setopsd deployment #1 (cli): new task definitions, services held for pre-deploy', 'setopsd deployment #1 (cli)'],
    'web has a preDeploy: a pinned up, then the rollout',
  );
  t.same(calls.filter((a) => a[0] === 'up').map((a) => a.includes('--refresh')), [true, false], '--refresh: the first update refreshes, the rollout after it does not again');
  t.same(aws.requests.map((r) => r.target.split('.').pop()), ['GetParameters', 'RunTask', 'DescribeTasks'], 'SSM checked first; the pre-deploy task ran between the updates');
  t.same(aws.requests[0]!.body, { Names: ['/setops/globex/storefront/staging/STRIPE_KEY'], WithDecryption: false });
  t.equal(aws.requests[1]!.body.taskDefinition, outputs.preDeployTaskDefinitions.web);

  const journalDir = join(stateDir, 'stages/globex/storefront/staging/journal');
  const [first] = readdirSync(journalDir).filter((n) => n.endsWith('.json')).sort();
  const entry = JSON.parse(readFileSync(join(journalDir, first!), 'utf8')) as { status: string; summary: Record<string, number> };
  t.equal(entry.status, 'succeeded');
  t.equal(entry.summary['resources.create'], 6, 'Pulumi resource counts in the journal');
  t.equal(entry.summary.create, 15, 'the changeset counts are kept');
  t.notMatch(res.stdout + res.stderr + JSON.stringify(entry), /e2e-passphrase/, 'the passphrase never shows');
});
