import t, { type Test } from 'tap';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalJson } from '../../../../src/model/canonical.js';
import { app, stage } from '../../../helpers/models.js';
import { createPulumiEngine } from '../../../../src/providers/aws/index.js';
import { StateStore } from '../../../../src/state/store.js';
import { runCli, testDeps } from '../../../helpers/deps.js';
import { tempDir } from '../../../helpers/temp.js';
import { waitFor } from '../../../helpers/wait.js';

const awsBin = join(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/fake-pulumi/aws-bin');
const ref = { organization: 'acme', project: 'shop', stage: 'production' };
const model = stage({
  name: 'production',
  organization: { provider: 'aws', aws: { region: 'eu-central-1' } },
  apps: { web: app({ image: 'nginx' }) },
});

async function deployed(t: Test) {
  const stateDir = tempDir(t, 'setopsd-logs-');
  const awsDir = tempDir(t, 'setopsd-fake-aws-');
  const file = join(stateDir, 'stages/acme/shop/production/pulumi/backend/.pulumi/stacks/setops-acme-shop/production.json');
  mkdirSync(dirname(file), { recursive: true });
  const outputs = { setopsdStageModel: canonicalJson(model), apps: { web: { logGroup: '/setops/acme/shop/production/web', scale: 1 } } };
  writeFileSync(file, JSON.stringify({ version: 3, checkpoint: { stack: 'x', latest: { manifest: {}, resources: [{ urn: 'urn:pulumi:production::setops-acme-shop::pulumi:pulumi:Stack::x', type: 'pulumi:pulumi:Stack', custom: false, outputs }] } } }));
  await new StateStore(stateDir).write(ref, model);
  return { stateDir, awsDir };
}

t.test('logs: the last lines of the app log group, read with the AWS CLI', async (t) => {
  const { stateDir, awsDir } = await deployed(t);
  const deps = testDeps({ env: { PATH: `${awsBin}:${process.env.PATH}`, FAKE_AWS_DIR: awsDir }, cwd: stateDir });
  const engine = createPulumiEngine({ stateDir, deps, organization: model.organization });
  let out = '';
  await engine.logs!(ref, 'web', { lines: 5, follow: false, signal: new AbortController().signal, write: (s) => void (out += s) });
  t.equal(out, [296, 297, 298, 299, 300].map((n) => `2026-01-01T00:00:00 line ${n}\n`).join(''));
  t.equal(readFileSync(join(awsDir, 'calls'), 'utf8'), 'logs tail /setops/acme/shop/production/web --format short --since 1d --region eu-central-1\n');
  await t.rejects(engine.logs!(ref, 'worker', { lines: 5, follow: false, signal: new AbortController().signal, write: () => {} }), {
    code: 'E_NOT_DEPLOYED',
    message: 'app/worker in acme/shop/production: the stack records no log group for this app; apply the stage first',
  });
});

t.test('logs --since asks the AWS CLI for the lines from that time on', async (t) => {
  const { stateDir, awsDir } = await deployed(t);
  const deps = testDeps({ env: { PATH: `${awsBin}:${process.env.PATH}`, FAKE_AWS_DIR: awsDir }, cwd: stateDir });
  const engine = createPulumiEngine({ stateDir, deps, organization: model.organization });
  await engine.logs!(ref, 'web', { lines: Infinity, since: Date.parse('2026-12-02T10:00:00Z'), follow: false, signal: new AbortController().signal, write: () => {} });
  t.equal(readFileSync(join(awsDir, 'calls'), 'utf8'), 'logs tail /setops/acme/shop/production/web --format short --since 2026-12-02T10:00:00.000Z --region eu-central-1\n');
});

t.test('logs --follow streams until the signal aborts', async (t) => {
  const { stateDir, awsDir } = await deployed(t);
  const deps = testDeps({ env: { PATH: `${awsBin}:${process.env.PATH}`, FAKE_AWS_DIR: awsDir }, cwd: stateDir });
  const engine = createPulumiEngine({ stateDir, deps, organization: model.organization });
  const ac = new AbortController();
  let out = '';
  const following = engine.logs!(ref, 'web', { lines: 5, follow: true, signal: ac.signal, write: (s) => void (out += s) });
  await waitFor('aws logs tail --follow to print two lines', () => existsSync(join(awsDir, 'following')) && out.includes('follow line 2'), { timeoutMs: 20_000 });
  ac.abort();
  await following;
  t.match(out, /follow line 1\n.*follow line 2\n/s);
  t.match(readFileSync(join(awsDir, 'calls'), 'utf8'), /--since 10m --follow --region eu-central-1/);
});

t.test('logs: a missing AWS CLI and a failing one are clear errors', async (t) => {
  const { stateDir, awsDir } = await deployed(t);
  const none = createPulumiEngine({ stateDir, deps: testDeps({ env: { PATH: join(stateDir, 'no-bin') } }), organization: model.organization });
  await t.rejects(none.logs!(ref, 'web', { lines: 5, follow: false, signal: new AbortController().signal, write: () => {} }), {
    code: 'E_AWS_CLI_MISSING',
    message: /^app\/web in acme\/shop\/production: reading CloudWatch Logs needs the AWS CLI; install it .* or open the log group \/setops\/acme\/shop\/production\/web in the CloudWatch console$/,
  });
  const failing = createPulumiEngine({ stateDir, deps: testDeps({ env: { PATH: `${awsBin}:${process.env.PATH}`, FAKE_AWS_DIR: awsDir, FAKE_AWS_FAIL: '1' } }), organization: model.organization });
  await t.rejects(failing.logs!(ref, 'web', { lines: 5, follow: false, signal: new AbortController().signal, write: () => {} }), {
    code: 'E_AWS_LOGS',
    message: /^app\/web in acme\/shop\/production: `aws logs tail \/setops\/acme\/shop\/production\/web` failed \(exit 254\): An error occurred \(ExpiredTokenException\)/,
  });
});

t.test('setopsd logs on an AWS stage goes through the engine', async (t) => {
  const { stateDir, awsDir } = await deployed(t);
  const res = await runCli(['logs', '--state-dir', stateDir, '--stage', 'acme/shop/production', '--app', 'web', '--lines', '2'], {
    env: { PATH: `${awsBin}:${process.env.PATH}`, FAKE_AWS_DIR: awsDir },
  });
  t.equal(res.code, 0, res.stderr || 'printed');
  t.equal(res.stdout, '2026-01-01T00:00:00 line 299\n2026-01-01T00:00:00 line 300\n');
});
